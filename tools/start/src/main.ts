// `npm start`: the whole local substrate — Redis, ateapi, atenet, atelet and one ateom per worker of
// deploy/local/workerpool.yaml — each as its own process with a prefixed log; Ctrl-C stops them all and
// removes every network namespace they made. Settings: docs/local.md.
import { Launcher, loadSettings } from './launcher';

const launcher = new Launcher(loadSettings(), process.stdout, (message) => {
  process.stderr.write(`[substrate] ${message}; stopping everything\n`);
  void shutdown(1);
});

let exiting = false;
async function shutdown(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  await launcher.down();
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

launcher.up().catch(async (error: unknown) => {
  process.stderr.write(
    `[substrate] cannot start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  await shutdown(1);
});
