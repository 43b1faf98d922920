// A CPU profile of a node process's main thread, for a process one cannot start with --cpu-prof
// (bench/soak's server): node --import scripts/cpu-profile.mjs … writes
// $CPU_PROFILE_DIR/PID.cpuprofile (default the current folder) when the process exits normally
// (bench/soak: SOAK_SERVER_STOP=term), sampled every millisecond. scripts/profile-stalls.mjs reads it.
//
//   SOAK_SERVER_NODE_OPTIONS="--import $PWD/scripts/cpu-profile.mjs" SOAK_SERVER_STOP=term \
//     npm run bench:soak -- 10 10 2

import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  // The in-thread session answers synchronously, so this completes inside the exit handler.
  process.on('exit', () =>
    session.post('Profiler.stop', (error, result) => {
      if (error === null)
        writeFileSync(
          join(process.env.CPU_PROFILE_DIR ?? '.', `${process.pid}.cpuprofile`),
          JSON.stringify(result.profile),
        );
    }),
  );
}
