// Records every module a process loads, to MODULE_PROBE_FILE: ESM resolutions through a loader
// hook and CommonJS requests through Module._load. Passed with `--import` before anything else.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const file = process.env.MODULE_PROBE_FILE;
if (!file) throw new Error('MODULE_PROBE_FILE is not set');
register('./module-probe-hooks.mjs', import.meta.url, { data: { file } });
const load = Module._load;
Module._load = function (request, parent, ...rest) {
  appendFileSync(file, `require ${request} from ${parent?.filename ?? '?'}\n`);
  return load.call(this, request, parent, ...rest);
};
