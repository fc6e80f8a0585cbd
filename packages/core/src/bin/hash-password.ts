#!/usr/bin/env node
// Prints a password hash for MCP_OAUTH_USERS (`<user>:<hash>`). The password is read from stdin, so
// that it never appears in a command line, shell history or process list:
//   printf '%s' 'the password' | pnpm hash-password alice
//   pnpm hash-password alice          (then type the password and press Ctrl-D)
import { hashPassword } from '../oauth/passwords.js';

const user = process.argv[2];
if (user !== undefined && !/^[A-Za-z0-9._@-]{1,64}$/.test(user)) {
  process.stderr.write('hash-password: the user name is 1-64 of A-Z a-z 0-9 . _ @ -\n');
  process.exit(1);
}
if (process.stdin.isTTY) process.stderr.write('Password (then Ctrl-D): ');
const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const password = Buffer.concat(chunks)
  .toString('utf8')
  .replace(/\r?\n$/, '');
if (password.length < 8) {
  process.stderr.write('hash-password: use a password of at least 8 characters\n');
  process.exit(1);
}
const hash = await hashPassword(password);
process.stdout.write(`${user === undefined ? hash : `${user}:${hash}`}\n`);
