import { createSocket } from 'node:dgram';
import { decode, encode } from 'dns-packet';
import { ActorDnsServer } from './dns-server';

/** The response code of an answer (dns-packet decodes it; its types omit it). */
const rcodeOf = (reply: Buffer | undefined): string =>
  (decode(reply ?? Buffer.alloc(0)) as { rcode?: string }).rcode ?? '';

const query = (name: string, type: 'A' | 'AAAA' = 'A') =>
  encode({ type: 'query', id: 7, flags: 256, questions: [{ type, name, class: 'IN' }] });

describe('ActorDnsServer', () => {
  const server = new ActorDnsServer('127.0.0.1');

  it('answers A records for well-formed actor names, TTL 60, authoritative', () => {
    const reply = decode(
      server.respond(query('counter-1.default.actors.resources.substrate.ate.dev')) ?? Buffer.alloc(0),
    );
    expect(reply).toMatchObject({ id: 7, type: 'response', rcode: 'NOERROR', flag_aa: true });
    expect(reply.answers).toEqual([
      expect.objectContaining({
        type: 'A',
        name: 'counter-1.default.actors.resources.substrate.ate.dev',
        ttl: 60,
        data: '127.0.0.1',
      }),
    ]);
  });

  it('answers NXDOMAIN for malformed names in the zone, REFUSED outside it, and nothing for AAAA', () => {
    expect(rcodeOf(server.respond(query('counter.actors.resources.substrate.ate.dev')))).toBe('NXDOMAIN');
    expect(rcodeOf(server.respond(query('Bad.default.actors.resources.substrate.ate.dev')))).toBe('NXDOMAIN');
    expect(rcodeOf(server.respond(query('example.com')))).toBe('REFUSED');
    const aaaa = decode(
      server.respond(query('a.b.actors.resources.substrate.ate.dev', 'AAAA')) ?? Buffer.alloc(0),
    );
    expect(aaaa).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(server.respond(Buffer.from('garbage'))).toBeUndefined();
  });

  it('serves over UDP on loopback', async () => {
    const udp = new ActorDnsServer('127.0.0.9');
    const port = await udp.listen('127.0.0.1', 0);
    const client = createSocket('udp4');
    try {
      const answer = await new Promise<Buffer>((resolve) => {
        client.once('message', resolve);
        client.send(query('x.y.actors.resources.substrate.ate.dev'), port, '127.0.0.1');
      });
      expect(decode(answer).answers?.[0]).toMatchObject({ data: '127.0.0.9' });
    } finally {
      client.close();
      await udp.close();
    }
  });
});
