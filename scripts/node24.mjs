// `npm start` and the lab's other commands run through this file: plain JavaScript that
// any Node runs, so a machine whose Node is older than the lab needs (22.18, for its
// TypeScript) gets a sentence and the fix instead of ERR_UNKNOWN_FILE_EXTENSION ".ts".
// On Linux x64 it fetches the official Node 24 into .tools/node once
// (scripts/ensure-node.sh) and runs the command with it; elsewhere it says what to install.
//   node scripts/node24.mjs scripts/lab.ts [args…]
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NEEDED = { major: 22, minor: 18 };
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function say(line) {
  process.stderr.write(`mxlab: ${line}\n`);
}

function newEnough(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > NEEDED.major || (major === NEEDED.major && minor >= NEEDED.minor);
}

function node24() {
  say(`this is Node ${process.version}; the lab runs its TypeScript sources and needs Node ${NEEDED.major}.${NEEDED.minor} or newer (24 is what it is tested on).`);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    say('install Node 24 (https://nodejs.org, or `nvm install 24`) and run the command again.');
    process.exit(1);
  }
  say('fetching the official Node 24 into .tools/node (scripts/ensure-node.sh; once, then it is reused) …');
  let bin;
  try {
    bin = execFileSync('bash', [join(root, 'scripts', 'ensure-node.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch (error) {
    say(`that failed (${error.message.split('\n')[0]}): install Node 24 yourself (https://nodejs.org, or \`nvm install 24\`) and run the command again.`);
    process.exit(1);
  }
  say(`running with ${join(bin, 'node')}. To use it for every command: export PATH="${bin}:$PATH"`);
  return join(bin, 'node');
}

const node = newEnough(process.versions.node) ? process.execPath : node24();
const child = spawn(node, process.argv.slice(2), { stdio: 'inherit', cwd: process.cwd() });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
  say(`could not run ${node}: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal === 'SIGINT' ? 130 : 1);
});
