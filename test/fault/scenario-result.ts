/**
 * What a fault scenario counted. The columns every scenario fills are the summary table's; the
 * rest goes in `details`. `problems` lists every broken promise with its evidence: a scenario
 * passes when it is empty.
 */
export interface ScenarioResult {
  id: string;
  title: string;
  /** Jobs the API answered 202 for (before or during the fault). */
  accepted: number;
  /** Accepted jobs missing from the database. */
  lost: number;
  /** Jobs still queued/running when the scenario's settle time ran out. */
  stuck: number;
  /** Jobs run twice: two `running` events for one attempt, or two renders of it alive at once. */
  runTwice: number;
  /** Job streams still open when every job had ended (null: the scenario opens none). */
  streamsLeftOpen: number | null;
  /**
   * Seconds from the fault's end to the first 200 from /api/ready: (a) from the SIGKILL to the
   * restarted server; (d) from PostgreSQL being back, the slower API (null: not measured).
   */
  recoverSeconds: number | null;
  /** Descendants of killed processes still running at the scenario's bound (null: nothing was killed). */
  survivors: number | null;
  durationMs: number;
  details: Record<string, unknown>;
  problems: string[];
  /** Set when the scenario reproduces a product bug already reported (its problems are expected until it is fixed). */
  knownBug?: string;
}

export class ResultBuilder {
  readonly started = Date.now();
  readonly r: ScenarioResult;

  constructor(id: string, title: string) {
    this.r = {
      id, title, accepted: 0, lost: 0, stuck: 0, runTwice: 0, streamsLeftOpen: null, recoverSeconds: null, survivors: null,
      durationMs: 0, details: {}, problems: [],
    };
  }

  /** Records a problem unless `ok`. */
  check(ok: boolean, problem: string): boolean {
    if (!ok) this.r.problems.push(problem);
    return ok;
  }

  detail(key: string, value: unknown) {
    this.r.details[key] = value;
  }

  finish(): ScenarioResult {
    this.r.durationMs = Date.now() - this.started;
    return this.r;
  }
}

const short = (ids: string[], n = 5) => (ids.length > n ? `${ids.slice(0, n).join(', ')} … (+${ids.length - n})` : ids.join(', '));
export { short as listSome };
