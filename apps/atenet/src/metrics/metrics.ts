/**
 * A minimal Prometheus registry for the router: counters and gauges with labels, and histograms, rendered
 * in the text exposition format at /metrics.
 */
type Labels = Readonly<Record<string, string>>;

const labelText = (labels: Labels): string => {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
};

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly kind: 'counter' | 'gauge' = 'counter',
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  set(labels: Labels, value: number): void {
    this.values.set(labelText(labels), value);
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels)) ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.kind}`];
    if (this.values.size === 0 && this.kind === 'gauge') lines.push(`${this.name} 0`);
    for (const [labels, value] of this.values) lines.push(`${this.name}${labels} ${value}`);
    return lines.join('\n');
  }
}

export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    this.buckets.forEach((bound, i) => {
      if (value <= bound) this.counts[i] = (this.counts[i] ?? 0) + 1;
    });
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((bound, i) =>
      lines.push(`${this.name}_bucket{le="${bound}"} ${this.counts[i] ?? 0}`),
    );
    lines.push(
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${this.sum}`,
      `${this.name}_count ${this.count}`,
    );
    return lines.join('\n');
  }
}

/** The router's metrics. */
export class RouterMetrics {
  readonly requests = new Counter(
    'atenet_requests_total',
    'Requests by outcome (routed, not_found, invalid_address, wake_failed, upstream_error, …)',
  );
  readonly wakeSeconds = new Histogram(
    'atenet_wake_seconds',
    'Time from a request to a suspended actor until it is routable',
    [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
  );
  readonly held = new Counter(
    'atenet_held_requests',
    'Requests currently held while their actor wakes',
    'gauge',
  );
  readonly resumes = new Counter('atenet_resumes_total', 'ResumeActor calls made, by gRPC outcome');
  readonly idleSuspensions = new Counter(
    'atenet_idle_suspensions_total',
    'Actors suspended for being idle longer than their timeout, by outcome',
  );
  readonly routes = new Counter('atenet_cached_routes', 'Actors with a cached route', 'gauge');

  render(): string {
    return `${[this.requests, this.wakeSeconds, this.held, this.resumes, this.idleSuspensions, this.routes].map((m) => m.render()).join('\n')}\n`;
  }
}
