import { copyFile } from './copy-file.js';
import { createDirectory } from './create-directory.js';
import { deletePath } from './delete-path.js';
import { directoryTree } from './directory-tree.js';
import { editFile } from './edit-file.js';
import { getFileInfo } from './get-file-info.js';
import { grepFiles } from './grep-files.js';
import { listAllowedDirectories } from './list-allowed-directories.js';
import { listDirectory } from './list-directory.js';
import { moveFile } from './move-file.js';
import { readFile } from './read-file.js';
import { readMediaFile } from './read-media-file.js';
import { readMultipleFiles } from './read-multiple-files.js';
import { searchFiles } from './search-files.js';
import { writeFile } from './write-file.js';

/** The one list of this service's tools, in the order tools/list shows them. */
export const tools = [
  listAllowedDirectories,
  listDirectory,
  directoryTree,
  getFileInfo,
  readFile,
  readMultipleFiles,
  readMediaFile,
  searchFiles,
  grepFiles,
  writeFile,
  editFile,
  createDirectory,
  moveFile,
  copyFile,
  deletePath,
] as const;
