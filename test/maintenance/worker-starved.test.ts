// The worker watchdog tells a worker starved of CPU (idle-class threads on a loaded machine: no
// heartbeat for 56 s mid-build at load 30-40) from a frozen or stopped one: only the latter is
// killed. Measured on real processes: a busy child gains CPU ticks; a SIGSTOPped one is in state T.
import { spawn } from 'node:child_process';
import { procSample, starved } from '../../lambdas/maintenance/worker-client';

const linux = process.platform === 'linux' ? test : test.skip;

test('starved: silent but gaining CPU and not stopped', () => {
  expect(starved({ state: 'R', ticks: 12 }, 5)).toBe(true);
  expect(starved({ state: 'S', ticks: 12 }, 5)).toBe(true);
  // No CPU since its last sign: frozen.
  expect(starved({ state: 'S', ticks: 5 }, 5)).toBe(false);
  // Stopped (SIGSTOP), traced, or gone.
  for (const state of ['T', 't', 'Z', 'X']) expect(starved({ state, ticks: 99 }, 5)).toBe(false);
  // Without /proc: the old rule (silent past the limit: killed).
  expect(starved(undefined, 5)).toBe(false);
  expect(starved({ state: 'R', ticks: 9 }, undefined)).toBe(false);
});

linux('a busy process counts as starved when silent, a stopped one does not', async () => {
  const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const first = procSample(child.pid)!;
    expect(first.ticks).toBeGreaterThanOrEqual(0);
    // Wait until it has used at least one more tick (slow on a loaded machine).
    let later = procSample(child.pid)!;
    for (let i = 0; i < 200 && later.ticks <= first.ticks; i++) {
      await new Promise((r) => setTimeout(r, 100));
      later = procSample(child.pid)!;
    }
    expect(starved(later, first.ticks)).toBe(true);
    process.kill(child.pid!, 'SIGSTOP');
    let stopped = procSample(child.pid)!;
    for (let i = 0; i < 50 && stopped.state !== 'T'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      stopped = procSample(child.pid)!;
    }
    expect(stopped.state).toBe('T');
    expect(starved(stopped, first.ticks)).toBe(false);
  } finally {
    child.kill('SIGKILL');
  }
}, 60_000);
