import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { type AteletConfig } from '../config';
import { ShuttingDownError } from '../errors/atelet-error';
import { ATELET_CONFIG } from '../herder/herder.service';
import { openActorLog, type ActorLog } from './actor-log-reader';

/**
 * Actor logs on this node: opens an actor's log under the configured log dir (ateom's `ATEOM_LOG_DIR`)
 * and ends every read still running when atelet stops, so a follow never holds the shutdown.
 */
@Injectable()
export class ActorLogsService implements BeforeApplicationShutdown {
  private readonly reads = new Set<AbortController>();
  private stopping = false;

  constructor(@Inject(ATELET_CONFIG) private readonly config: Pick<AteletConfig, 'logDir'>) {}

  /** The actor's log, or `ActorLogNotFoundError` when the node has no log dir for it. */
  open(atespace: string, actorId: string): Promise<ActorLog> {
    if (this.stopping) return Promise.reject(new ShuttingDownError());
    return openActorLog(this.config.logDir, atespace, actorId);
  }

  /** A signal that aborts when atelet stops; `done` releases it. */
  track(): { signal: AbortSignal; abort: () => void; done: () => void } {
    const controller = new AbortController();
    this.reads.add(controller);
    if (this.stopping) controller.abort();
    return {
      signal: controller.signal,
      abort: () => controller.abort(),
      done: () => this.reads.delete(controller),
    };
  }

  /** Reads in progress (a follow counts until its client goes). */
  get activeReads(): number {
    return this.reads.size;
  }

  /** Before the HTTP server closes (it waits for open connections): end every read. */
  beforeApplicationShutdown(): void {
    this.stopping = true;
    for (const controller of this.reads) controller.abort();
    this.reads.clear();
  }
}
