import { drainConnections, openConnections, parseConntrack, type ConntrackReader } from './conntrack';

/**
 * Lines read from the conntrack table of a forwarded worker's namespace (`atw-<worker>`) while a client on
 * the host talked to the counter sandbox through the endpoint 169.254.190.134 (DNAT to 169.254.17.2).
 */
const ESTABLISHED =
  'ipv4     2 tcp      6 431999 ESTABLISHED src=169.254.190.133 dst=169.254.190.134 sport=44680 dport=8080 src=169.254.17.2 dst=169.254.190.133 sport=8080 dport=44680 [ASSURED] mark=0 zone=0 use=2';
/** After the client reset its connection. */
const CLOSE =
  'ipv4     2 tcp      6 9 CLOSE src=169.254.190.133 dst=169.254.190.134 sport=45646 dport=8080 src=169.254.17.2 dst=169.254.190.133 sport=8080 dport=45646 [ASSURED] mark=0 zone=0 use=2';
/** After a close with FINs from both sides. */
const TIME_WAIT =
  'ipv4     2 tcp      6 119 TIME_WAIT src=169.254.190.133 dst=169.254.190.134 sport=44950 dport=8080 src=169.254.17.2 dst=169.254.190.133 sport=8080 dport=44950 [ASSURED] mark=0 zone=0 use=2';
/** Right after the client's FIN, before the sandbox's. */
const CLOSE_WAIT =
  'ipv4     2 tcp      6 59 CLOSE_WAIT src=169.254.190.133 dst=169.254.190.134 sport=45992 dport=8080 src=169.254.17.2 dst=169.254.190.133 sport=8080 dport=45992 [ASSURED] mark=0 zone=0 use=2';
/** A SYN not answered yet (the kernel's format, with [UNREPLIED] between the tuples). */
const SYN_SENT =
  'ipv4     2 tcp      6 119 SYN_SENT src=169.254.128.1 dst=169.254.128.2 sport=40000 dport=80 [UNREPLIED] src=169.254.17.2 dst=169.254.128.1 sport=80 dport=40000 mark=0 zone=0 use=2';
/** A datagram: no TCP state. */
const UDP =
  'ipv4     2 udp      17 29 src=169.254.128.1 dst=169.254.128.2 sport=5353 dport=53 [UNREPLIED] src=169.254.17.2 dst=169.254.128.1 sport=53 dport=5353 mark=0 zone=0 use=2';
/** A connection that has nothing to do with the sandbox. */
const OTHER =
  'ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=1234 dport=22 src=10.0.0.2 dst=10.0.0.1 sport=22 dport=1234 [ASSURED] mark=0 zone=0 use=2';

const SANDBOX = '169.254.17.2';

describe('conntrack table', () => {
  it('parses both tuples and the TCP state of each line', () => {
    expect(parseConntrack(`${ESTABLISHED}\n${UDP}\n`)).toEqual([
      {
        protocol: 'tcp',
        state: 'ESTABLISHED',
        original: { src: '169.254.190.133', dst: '169.254.190.134', sport: 44680, dport: 8080 },
        reply: { src: '169.254.17.2', dst: '169.254.190.133', sport: 8080, dport: 44680 },
      },
      {
        protocol: 'udp',
        original: { src: '169.254.128.1', dst: '169.254.128.2', sport: 5353, dport: 53 },
        reply: { src: '169.254.17.2', dst: '169.254.128.1', sport: 53, dport: 5353 },
      },
    ]);
    expect(parseConntrack('')).toEqual([]);
    expect(parseConntrack('garbage\nipv4 2 tcp 6 10 ESTABLISHED src=1.2.3.4\n')).toEqual([]);
  });

  it('names the open and closing connections of the sandbox, not the closed ones or other hosts', () => {
    const table = [ESTABLISHED, CLOSE, TIME_WAIT, CLOSE_WAIT, SYN_SENT, UDP, OTHER].join('\n');
    expect(openConnections(parseConntrack(table), SANDBOX)).toEqual([
      { local: '169.254.17.2:8080', remote: '169.254.190.133:44680', state: 'ESTABLISHED' },
      { local: '169.254.17.2:8080', remote: '169.254.190.133:45992', state: 'CLOSE_WAIT' },
      { local: '169.254.17.2:80', remote: '169.254.128.1:40000', state: 'SYN_SENT' },
    ]);
  });

  it('finds the sandbox as the destination of a direct connection and as the source of its own', () => {
    const direct =
      'ipv4     2 tcp      6 300 ESTABLISHED src=169.254.17.1 dst=169.254.17.2 sport=50000 dport=80 src=169.254.17.2 dst=169.254.17.1 sport=80 dport=50000 [ASSURED] mark=0 zone=0 use=2';
    const outbound =
      'ipv4     2 tcp      6 60 LAST_ACK src=169.254.17.2 dst=169.254.17.1 sport=41000 dport=9000 src=169.254.17.1 dst=169.254.17.2 sport=9000 dport=41000 [ASSURED] mark=0 zone=0 use=2';
    expect(openConnections(parseConntrack(`${direct}\n${outbound}`), SANDBOX)).toEqual([
      { local: '169.254.17.2:80', remote: '169.254.17.1:50000', state: 'ESTABLISHED' },
      { local: '169.254.17.2:41000', remote: '169.254.17.1:9000', state: 'LAST_ACK' },
    ]);
  });
});

describe('connection drain', () => {
  /** A table that shows `tables[i]` on the i-th read and the last one after that. */
  function reader(...tables: (string | undefined)[]): ConntrackReader & { reads: number } {
    const read = Object.assign(
      async () => {
        const table = tables[Math.min(read.reads, tables.length - 1)];
        read.reads += 1;
        return table;
      },
      { reads: 0 },
    );
    return read;
  }

  it('costs one read when nothing is open', async () => {
    const read = reader(`${CLOSE}\n${TIME_WAIT}`);
    await expect(drainConnections({ read, address: SANDBOX, timeoutMs: 2_000 })).resolves.toMatchObject({
      outcome: 'drained',
      polls: 1,
    });
    expect(read.reads).toBe(1);
  });

  it('waits until the open connections are gone', async () => {
    const read = reader(ESTABLISHED, CLOSE_WAIT, CLOSE);
    await expect(
      drainConnections({ read, address: SANDBOX, timeoutMs: 60_000, intervalMs: 1 }),
    ).resolves.toMatchObject({ outcome: 'drained', polls: 3 });
  });

  it('gives up at the bound and names what is still open', async () => {
    const read = reader(`${ESTABLISHED}\n${CLOSE}`);
    const drain = await drainConnections({ read, address: SANDBOX, timeoutMs: 30, intervalMs: 5 });
    expect(drain).toMatchObject({
      outcome: 'open',
      connections: [{ local: '169.254.17.2:8080', remote: '169.254.190.133:44680', state: 'ESTABLISHED' }],
    });
    expect(drain.drainMs).toBeGreaterThanOrEqual(30);
    expect(drain.polls).toBeGreaterThan(1);
  });

  it('looks once with a bound of 0', async () => {
    const read = reader(ESTABLISHED);
    await expect(drainConnections({ read, address: SANDBOX, timeoutMs: 0 })).resolves.toMatchObject({
      outcome: 'open',
      polls: 1,
    });
  });

  it('reports a namespace without a conntrack table', async () => {
    await expect(
      drainConnections({ read: reader(undefined), address: SANDBOX, timeoutMs: 2_000 }),
    ).resolves.toMatchObject({ outcome: 'untracked', polls: 1 });
  });
});
