import 'reflect-metadata';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { tempDir } from '@substrate/testing';
import { ActorLogsModule } from './actor-logs.module';
import { ActorLogsService } from './actor-logs.service';

/** One GET; resolves with the status, content type and body once the response ends. */
function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.once('end', () =>
        done({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    });
    req.once('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 5 s`)));
    req.once('error', fail);
    req.end();
  });
}

function line(message: string, container?: string): string {
  return `${JSON.stringify({
    time: '2026-11-30T10:00:00.000Z',
    message,
    stream: container === undefined ? 'lifecycle' : 'stdout',
    labels: {
      'ate.dev/actor_id': 'a1',
      ...(container !== undefined && { 'ate.dev/container_name': container }),
    },
  })}\n`;
}

describe('GET /v1/atespaces/{atespace}/actors/{actor}/logs', () => {
  let tmp: { path: string; remove: () => void };
  let app: INestApplication;
  let port: number;
  let actorDir: string;
  let closed: boolean;

  beforeEach(async () => {
    tmp = tempDir('actor-logs-http');
    const logDir = join(tmp.path, 'logs');
    actorDir = join(logDir, 'demo', 'a1');
    mkdirSync(actorDir, { recursive: true });
    writeFileSync(join(actorDir, 'actor.log.1'), line('Actor starting') + line('listening', 'web'));
    writeFileSync(join(actorDir, 'actor.log'), line('Actor started') + line('request', 'web'));
    app = await NestFactory.create(ActorLogsModule.forConfig({ logDir }), { logger: false });
    closed = false;
    app.enableShutdownHooks();
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer() as { address(): { port: number } }).address().port;
  });

  afterEach(async () => {
    if (!closed) await app.close();
    tmp.remove();
  });

  it('answers the JSON lines oldest first, filtered and tailed', async () => {
    const all = await get(port, '/v1/atespaces/demo/actors/a1/logs');
    expect(all.status).toBe(200);
    expect(all.type).toBe('application/x-ndjson; charset=utf-8');
    expect(all.body).toBe(
      line('Actor starting') + line('listening', 'web') + line('Actor started') + line('request', 'web'),
    );
    const tail = await get(port, '/v1/atespaces/demo/actors/a1/logs?container=web&tailLines=1&follow=false');
    expect(tail.body).toBe(line('request', 'web'));
    const since = await get(port, '/v1/atespaces/demo/actors/a1/logs?sinceTime=2026-11-30T11:00:00+01:00');
    expect(since.body.split('\n')).toHaveLength(5);
  });

  it('refuses bad parameters with 400 and the parameter named, and an unknown actor with 404', async () => {
    const cases: [string, string][] = [
      ['/v1/atespaces/demo/actors/Not_A_Label/logs', 'actor: "Not_A_Label" is not a DNS-1123 label'],
      ['/v1/atespaces/..%2F..%2Fetc/actors/a1/logs', 'atespace: "../../etc" is not a DNS-1123 label'],
      [
        '/v1/atespaces/demo/actors/a1/logs?tail=3',
        'tail: unknown query parameter (expected tailLines, container, follow, sinceTime)',
      ],
      ['/v1/atespaces/demo/actors/a1/logs?tailLines=-1', 'tailLines: "-1" is not a non-negative integer'],
      ['/v1/atespaces/demo/actors/a1/logs?tailLines=1&tailLines=2', 'tailLines: must be given once'],
      ['/v1/atespaces/demo/actors/a1/logs?follow=yes', 'follow: "yes" is not true or false'],
      ['/v1/atespaces/demo/actors/a1/logs?container=Web', 'container: "Web" is not a DNS-1123 label'],
      [
        '/v1/atespaces/demo/actors/a1/logs?sinceTime=yesterday',
        'sinceTime: "yesterday" is not an RFC 3339 time (e.g. 2026-11-30T09:20:48Z)',
      ],
    ];
    for (const [path, message] of cases) {
      const answer = await get(port, path);
      expect({
        path,
        status: answer.status,
        type: answer.type,
        body: JSON.parse(answer.body) as unknown,
      }).toEqual({
        path,
        status: 400,
        type: 'application/json; charset=utf-8',
        body: { code: 'INVALID_REQUEST', message },
      });
    }
    const unknown = await get(port, '/v1/atespaces/demo/actors/nobody/logs');
    expect({ status: unknown.status, body: JSON.parse(unknown.body) as unknown }).toEqual({
      status: 404,
      body: { code: 'ACTOR_LOG_NOT_FOUND', message: 'no log of actor nobody in atespace demo on this node' },
    });
  });

  const follow = (query = '?tailLines=1&follow=true') =>
    new Promise<IncomingMessage>((done, fail) => {
      const req = request({
        host: '127.0.0.1',
        port,
        path: `/v1/atespaces/demo/actors/a1/logs${query}`,
        agent: false,
      });
      req.once('response', done);
      req.once('error', fail);
      req.end();
    });

  it('streams new lines with follow=true until the client goes', async () => {
    const service = app.get(ActorLogsService);
    const response = await follow();
    expect(response.statusCode).toBe(200);
    const received: string[] = [];
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => received.push(chunk));
    const waitFor = async (text: string) => {
      const deadline = Date.now() + 5_000;
      while (!received.join('').includes(text)) {
        if (Date.now() > deadline) throw new Error(`no ${text} in ${received.join('')}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await waitFor('"request"');
    appendFileSync(join(actorDir, 'actor.log'), line('second request', 'web'));
    await waitFor('"second request"');
    expect(received.join('')).toBe(line('request', 'web') + line('second request', 'web'));
    expect(service.activeReads).toBe(1);
    response.destroy();
    const deadline = Date.now() + 5_000;
    while (service.activeReads > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(service.activeReads).toBe(0);
  });

  it('stops reading a large log when the client goes half-way', async () => {
    const service = app.get(ActorLogsService);
    const big = line(`request ${'x'.repeat(1_000)}`, 'web').repeat(20_000); // ~21 MB
    writeFileSync(join(actorDir, 'actor.log'), big);
    const response = await follow('?follow=false');
    expect(response.statusCode).toBe(200);
    await new Promise((resolve) => response.once('data', resolve));
    response.destroy();
    const deadline = Date.now() + 5_000;
    while (service.activeReads > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(service.activeReads).toBe(0);
    // Still serving.
    expect((await get(port, '/v1/atespaces/demo/actors/a1/logs?tailLines=1')).body).toBe(
      line(`request ${'x'.repeat(1_000)}`, 'web'),
    );
  });

  it('ends a follow when atelet stops, so it does not hold the shutdown', async () => {
    const response = await follow();
    expect(response.statusCode).toBe(200);
    response.resume();
    const ended = new Promise((resolve) => response.once('close', resolve));
    const began = Date.now();
    await app.close();
    closed = true;
    await ended;
    expect(Date.now() - began).toBeLessThan(2_000);
  });
});
