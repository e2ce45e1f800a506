// Preloaded (`node -r`) into a process a benchmark wants to profile over one window only: the first
// SIGWINCH (ignored by default, and not one of the signals Nest treats as a shutdown) starts V8's CPU profiler, the second stops it and writes the profile (Chrome .cpuprofile JSON)
// to $BENCH_CPU_PROFILE. `node --cpu-prof` would cover start-up too, and writes nothing when the process
// dies of the signal that stops it.
const { renameSync, writeFileSync } = require('node:fs');
const { Session } = require('node:inspector');

const target = process.env.BENCH_CPU_PROFILE;
if (target) {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGWINCH', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')),
      );
      return;
    }
    running = false;
    session.post('Profiler.stop', (error, result) => {
      const body = error ? { error: String(error) } : result.profile;
      writeFileSync(`${target}.tmp`, JSON.stringify(body));
      renameSync(`${target}.tmp`, target);
    });
  });
}
