import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { decode, encode, type Packet } from 'dns-packet';
import { ACTOR_DOMAIN, parseActorHost } from '../routing/actor-address';

/** TTL of the A records, as upstream's CoreDNS template. */
export const DNS_TTL_SECONDS = 60;

/**
 * A small authoritative DNS responder (UDP) for `*.actors.resources.substrate.ate.dev`: an A record
 * pointing at the router for every well-formed `<actor>.<atespace>` name (whether or not the actor
 * exists, as upstream), NXDOMAIN for malformed names and names outside the domain, REFUSED for anything
 * it cannot parse. In Kubernetes, point a CoreDNS stub domain at it (docs/atenet.md).
 */
export class ActorDnsServer {
  private socket: Socket | undefined;

  constructor(private readonly answer: string) {}

  async listen(host: string, port: number): Promise<number> {
    const socket = createSocket('udp4');
    this.socket = socket;
    socket.on('message', (message: Buffer, remote: RemoteInfo) => {
      const reply = this.respond(message);
      if (reply) socket.send(reply, remote.port, remote.address);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => resolve());
    });
    return socket.address().port;
  }

  /** The answer to one query packet (exposed for tests); undefined when the packet is not a query. */
  respond(message: Buffer): Buffer | undefined {
    let query: Packet;
    try {
      query = decode(message);
    } catch {
      return undefined;
    }
    if (query.type !== 'query') return undefined;
    const question = query.questions?.[0];
    const base = { id: query.id ?? 0, type: 'response' as const, questions: query.questions ?? [] };
    if (!question) return encode({ ...base, flags: 5 /* REFUSED */ });
    const name = question.name.toLowerCase() === question.name ? question.name : '';
    let wellFormed = false;
    try {
      parseActorHost(name);
      wellFormed = true;
    } catch {
      wellFormed = false;
    }
    const inZone = question.name.endsWith(ACTOR_DOMAIN);
    const AA = 1 << 10;
    if (!wellFormed) return encode({ ...base, flags: AA | (inZone ? 3 /* NXDOMAIN */ : 5) /* REFUSED */ });
    const answers =
      question.type === 'A'
        ? [
            {
              type: 'A' as const,
              name: question.name,
              ttl: DNS_TTL_SECONDS,
              class: 'IN' as const,
              data: this.answer,
            },
          ]
        : [];
    return encode({ ...base, flags: AA, answers });
  }

  async close(): Promise<void> {
    const socket = this.socket;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
