/**
 * CPU time per process over one measured run: each named process's user + system time (from
 * /proc), this process's own, and the rest of the machine ("other": helpers, OS), so a run that
 * shared the machine with foreign work can be told apart.
 */
import { cpuMs, machineCpuMs } from './procfs';

export interface CpuReading {
  /** ms of CPU per named process during the run. */
  readonly byProcess: Record<string, number>;
  /** ms of CPU used on the machine by processes not named (and not this one). */
  readonly otherMs: number;
  /** Wall time of the run, ms. */
  readonly wallMs: number;
}

export class CpuMeter {
  private startProc = new Map<string, number>();
  private startSelf = process.cpuUsage();
  private startMachine = machineCpuMs();
  private startWall = Date.now();

  /** `processes`: name → pid; `self` names this process (the load generator) in the reading. */
  constructor(
    private readonly processes: Readonly<Record<string, number>>,
    private readonly self = 'client',
  ) {}

  start(): this {
    this.startProc = new Map(Object.entries(this.processes).map(([n, pid]) => [n, cpuMs(pid)]));
    this.startSelf = process.cpuUsage();
    this.startMachine = machineCpuMs();
    this.startWall = Date.now();
    return this;
  }

  stop(): CpuReading {
    const byProcess: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.processes)) {
      byProcess[name] = cpuMs(pid) - (this.startProc.get(name) ?? NaN);
    }
    const self = process.cpuUsage(this.startSelf);
    byProcess[this.self] = (self.user + self.system) / 1000;
    const machine = machineCpuMs();
    const known = Object.values(byProcess).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    return {
      byProcess,
      otherMs: Math.max(0, machine.busy - this.startMachine.busy - known),
      wallMs: Date.now() - this.startWall,
    };
  }
}
