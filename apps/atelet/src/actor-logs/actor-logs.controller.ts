import { once } from 'node:events';
import { type ServerResponse } from 'node:http';
import { Controller, Get, Inject, Logger, Param, Query, Res } from '@nestjs/common';
import { httpErrorOf } from '../errors/http-status';
import { parseActorLogsRequest } from './actor-logs-request';
import { ActorLogsService } from './actor-logs.service';

/**
 * `GET /v1/atespaces/{atespace}/actors/{actor}/logs`: the actor's JSON lines, oldest first, streamed as
 * `application/x-ndjson`; with `follow=true` the response stays open and carries new lines until the
 * client disconnects. Errors before the first byte are JSON `{code, message}` (400, 404, 503).
 */
@Controller('v1/atespaces/:atespace/actors/:actor')
export class ActorLogsController {
  private readonly logger = new Logger(ActorLogsController.name);

  // Explicit token: atelet also runs under swc/tsx, which may emit no decorator metadata.
  constructor(@Inject(ActorLogsService) private readonly actorLogs: ActorLogsService) {}

  @Get('logs')
  async logs(
    @Param('atespace') atespace: string,
    @Param('actor') actor: string,
    @Query() query: Record<string, unknown>,
    @Res() res: ServerResponse,
  ): Promise<void> {
    let request;
    let log;
    try {
      request = parseActorLogsRequest(atespace, actor, query);
      log = await this.actorLogs.open(request.atespace, request.actorId);
    } catch (error) {
      const { status, body } = httpErrorOf(error);
      if (status >= 500) this.logger.error(body.message);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
      return;
    }
    const read = this.actorLogs.track();
    const gone = () => read.abort();
    res.once('close', gone);
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.flushHeaders();
    try {
      for await (const chunk of log.lines(request.query, { signal: read.signal })) {
        if (read.signal.aborted) break;
        if (!res.write(chunk)) await once(res, 'drain', { signal: read.signal });
      }
      res.end();
    } catch (error) {
      // The status is sent: a failure can only cut the stream short.
      if (!read.signal.aborted) {
        this.logger.warn({
          message: 'actor log read failed',
          actorId: request.actorId,
          atespace: request.atespace,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      res.destroy();
    } finally {
      res.off('close', gone);
      read.done();
    }
  }
}
