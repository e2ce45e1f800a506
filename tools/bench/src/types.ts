/** One figure of a benchmark: printed as `RESULT <metric> <value> <unit>`. */
export interface BenchResult {
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
}

/** What a benchmark hands back to the runner. */
export interface BenchOutcome {
  readonly results: readonly BenchResult[];
  /** One sentence: the target and whether this run met it. */
  readonly verdict: string;
  /** Extra lines for the document (workload, method, where the time goes). Markdown, one item each. */
  readonly notes: readonly string[];
}

/** Options every benchmark receives from the command line. */
export interface BenchOptions {
  /** Fewer repetitions, for trying the benchmark out; the figures are noisier. */
  readonly quick: boolean;
  /** Progress messages (stderr), so stdout holds only the RESULT lines. */
  readonly log: (message: string) => void;
}
