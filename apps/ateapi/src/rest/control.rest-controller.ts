import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  UseFilters,
} from '@nestjs/common';
import {
  ApiBody,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ateapi } from '@substrate/proto';
import { ControlService } from '../control/control.service';
import { invalidArgument } from '../errors/control-error';
import {
  ActorListResponse,
  ActorResponse,
  AtespaceListResponse,
  AtespaceResponse,
  CreateActorBody,
  CreateAtespaceBody,
  ErrorBody,
  ResumeActorBody,
  UpdateActorBody,
  WorkerListResponse,
} from './dto';
import { HttpExceptionFilter } from './http-exception.filter';

const ERRORS = [
  ApiResponse({ status: 400, description: 'INVALID_ARGUMENT', type: ErrorBody }),
  ApiResponse({ status: 404, description: 'NOT_FOUND', type: ErrorBody }),
  ApiResponse({
    status: 409,
    description: 'ALREADY_EXISTS, or ABORTED (a concurrent operation; retry)',
    type: ErrorBody,
  }),
  ApiResponse({ status: 412, description: 'FAILED_PRECONDITION', type: ErrorBody }),
  ApiResponse({ status: 500, description: 'INTERNAL', type: ErrorBody }),
];

function documented(summary: string): MethodDecorator {
  return (target, key, descriptor) => {
    ApiOperation({ summary })(target, key, descriptor);
    for (const decorator of ERRORS) decorator(target, key, descriptor);
  };
}

const actorJson = (actor: ateapi.Actor | undefined) => ({ actor: actor && ateapi.Actor.toJSON(actor) });

/**
 * The REST/JSON gateway over the same ControlService as the gRPC API: the same validation, messages and
 * workflows, with the gRPC status mapped to HTTP in HttpExceptionFilter. Bodies and answers use the
 * protobuf JSON mapping of the ateapi messages.
 */
@ApiTags('ateapi')
@ApiExtraModels(ErrorBody)
@Controller('v1')
@UseFilters(HttpExceptionFilter)
export class ControlRestController {
  constructor(@Inject(ControlService) private readonly control: ControlService) {}

  @Get('atespaces')
  @documented('List atespaces')
  @ApiOkResponse({ type: AtespaceListResponse })
  async listAtespaces() {
    return ateapi.ListAtespacesResponse.toJSON(await this.control.listAtespaces());
  }

  @Post('atespaces')
  @HttpCode(200)
  @documented('Create an atespace')
  @ApiBody({ type: CreateAtespaceBody })
  @ApiOkResponse({ type: AtespaceResponse })
  async createAtespace(@Body() body: unknown) {
    const { name } = objectBody(body);
    return ateapi.CreateAtespaceResponse.toJSON(
      await this.control.createAtespace({ name: stringField(name, 'name') }),
    );
  }

  @Get('atespaces/:atespace')
  @documented('Get an atespace')
  @ApiOkResponse({ type: AtespaceResponse })
  @ApiParam({ name: 'atespace', type: String, description: 'Atespace name (DNS-1123 label)' })
  async getAtespace(@Param('atespace') name: string) {
    return ateapi.GetAtespaceResponse.toJSON(await this.control.getAtespace({ name }));
  }

  @Delete('atespaces/:atespace')
  @documented('Delete an empty atespace')
  @ApiOkResponse({ description: 'Deleted.' })
  @ApiParam({ name: 'atespace', type: String, description: 'Atespace name (DNS-1123 label)' })
  async deleteAtespace(@Param('atespace') name: string) {
    await this.control.deleteAtespace({ name });
    return {};
  }

  @Get('actors')
  @documented('List actors of every atespace (paginated)')
  @ApiQuery({
    name: 'pageSize',
    required: false,
    type: Number,
    description: '0 or absent: 1000 (the maximum)',
  })
  @ApiQuery({ name: 'pageToken', required: false, type: String })
  @ApiOkResponse({ type: ActorListResponse })
  async listAllActors(@Query('pageSize') pageSize?: string, @Query('pageToken') pageToken?: string) {
    return this.list('', pageSize, pageToken);
  }

  @Get('atespaces/:atespace/actors')
  @documented('List the actors of one atespace (paginated)')
  @ApiQuery({ name: 'pageSize', required: false, type: Number })
  @ApiQuery({ name: 'pageToken', required: false, type: String })
  @ApiOkResponse({ type: ActorListResponse })
  @ApiParam({ name: 'atespace', type: String, description: 'Atespace name (DNS-1123 label)' })
  async listActors(
    @Param('atespace') atespace: string,
    @Query('pageSize') pageSize?: string,
    @Query('pageToken') pageToken?: string,
  ) {
    return this.list(atespace, pageSize, pageToken);
  }

  @Post('atespaces/:atespace/actors')
  @HttpCode(200)
  @documented('Create an actor (SUSPENDED, version 1) from an ActorTemplate')
  @ApiBody({ type: CreateActorBody })
  @ApiOkResponse({ type: ActorResponse })
  @ApiParam({ name: 'atespace', type: String, description: 'Atespace name (DNS-1123 label)' })
  async createActor(@Param('atespace') atespace: string, @Body() body: unknown) {
    const fields = objectBody(body);
    const response = await this.control.createActor({
      actorRef: { atespace, name: stringField(fields['actorId'], 'actorId') },
      actorTemplateNamespace: stringField(fields['actorTemplateNamespace'], 'actorTemplateNamespace'),
      actorTemplateName: stringField(fields['actorTemplateName'], 'actorTemplateName'),
      workerSelector: selectorField(fields['workerSelector']),
      annotations: annotationsField(fields['annotations']),
    });
    return actorJson(response.actor);
  }

  @Get('atespaces/:atespace/actors/:actor')
  @documented('Get an actor')
  @ApiOkResponse({ type: ActorResponse })
  @ApiParam({ name: 'atespace', type: String, description: 'Atespace name (DNS-1123 label)' })
  @ApiParam({ name: 'actor', type: String, description: 'Actor ID (DNS-1123 label)' })
  async getActor(@Param('atespace') atespace: string, @Param('actor') name: string) {
    return actorJson((await this.control.getActor({ actorRef: { atespace, name } })).actor);
  }

  @Patch('atespaces/:atespace/actors/:actor')
  @documented("Replace an actor's worker selector (effective at its next resume)")
  @ApiBody({ type: UpdateActorBody })
  @ApiOkResponse({ type: ActorResponse })
  @ApiParam({ name: 'atespace', type: String, description: 'Atespace name (DNS-1123 label)' })
  @ApiParam({ name: 'actor', type: String, description: 'Actor ID (DNS-1123 label)' })
  async updateActor(
    @Param('atespace') atespace: string,
    @Param('actor') name: string,
    @Body() body: unknown,
  ) {
    const fields = objectBody(body);
    return actorJson(
      (
        await this.control.updateActor({
          actorRef: { atespace, name },
          workerSelector: selectorField(fields['workerSelector']),
        })
      ).actor,
    );
  }

  @Delete('atespaces/:atespace/actors/:actor')
  @documented('Delete a SUSPENDED actor')
  @ApiOkResponse({ description: 'Deleted.' })
  @ApiParam({ name: 'atespace', type: String, description: 'Atespace name (DNS-1123 label)' })
  @ApiParam({ name: 'actor', type: String, description: 'Actor ID (DNS-1123 label)' })
  async deleteActor(@Param('atespace') atespace: string, @Param('actor') name: string) {
    await this.control.deleteActor({ actorRef: { atespace, name } });
    return {};
  }

  @Post('atespaces/:atespace/actors/:actor/resume')
  @HttpCode(200)
  @documented('Resume an actor: claim a worker, restore its snapshot (or boot it); a no-op when RUNNING')
  @ApiBody({ type: ResumeActorBody, required: false })
  @ApiOkResponse({ type: ActorResponse })
  @ApiParam({ name: 'atespace', type: String, description: 'Atespace name (DNS-1123 label)' })
  @ApiParam({ name: 'actor', type: String, description: 'Actor ID (DNS-1123 label)' })
  async resumeActor(
    @Param('atespace') atespace: string,
    @Param('actor') name: string,
    @Body() body: unknown,
  ) {
    const fields =
      body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0)
        ? {}
        : objectBody(body);
    const boot = fields['boot'];
    if (boot !== undefined && typeof boot !== 'boolean') throw invalidArgument('boot must be a boolean');
    return actorJson(
      (await this.control.resumeActor({ actorRef: { atespace, name }, boot: boot ?? false })).actor,
    );
  }

  @Post('atespaces/:atespace/actors/:actor/suspend')
  @HttpCode(200)
  @documented('Suspend an actor: checkpoint to object storage and free its worker')
  @ApiOkResponse({ type: ActorResponse })
  @ApiParam({ name: 'atespace', type: String, description: 'Atespace name (DNS-1123 label)' })
  @ApiParam({ name: 'actor', type: String, description: 'Actor ID (DNS-1123 label)' })
  async suspendActor(@Param('atespace') atespace: string, @Param('actor') name: string) {
    return actorJson((await this.control.suspendActor({ actorRef: { atespace, name } })).actor);
  }

  @Post('atespaces/:atespace/actors/:actor/pause')
  @HttpCode(200)
  @documented("Pause an actor: checkpoint to its node's disk and free its worker")
  @ApiOkResponse({ type: ActorResponse })
  @ApiParam({ name: 'atespace', type: String, description: 'Atespace name (DNS-1123 label)' })
  @ApiParam({ name: 'actor', type: String, description: 'Actor ID (DNS-1123 label)' })
  async pauseActor(@Param('atespace') atespace: string, @Param('actor') name: string) {
    return actorJson((await this.control.pauseActor({ actorRef: { atespace, name } })).actor);
  }

  @Get('workers')
  @documented('List every registered worker')
  @ApiOkResponse({ type: WorkerListResponse })
  async listWorkers() {
    return ateapi.ListWorkersResponse.toJSON(await this.control.listWorkers());
  }

  @Post('debug/clear')
  @HttpCode(200)
  @documented('Erase the state store (only when ATEAPI_DEBUG_CLEAR=true)')
  @ApiOkResponse({ description: 'Cleared.' })
  async debugClear() {
    await this.control.debugClear();
    return {};
  }

  private async list(atespace: string, pageSize?: string, pageToken?: string) {
    if (pageSize !== undefined && !/^-?\d+$/.test(pageSize))
      throw invalidArgument(`pageSize must be an integer, got ${JSON.stringify(pageSize)}`);
    const size = pageSize === undefined ? 0 : Number(pageSize);
    if (!Number.isSafeInteger(size) || size > 2 ** 31 - 1 || size < -(2 ** 31))
      throw invalidArgument(`pageSize ${pageSize ?? ''} is out of range`);
    return ateapi.ListActorsResponse.toJSON(
      await this.control.listActors({ atespace, pageSize: size, pageToken: pageToken ?? '' }),
    );
  }
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidArgument('the request body must be a JSON object');
  return body as Record<string, unknown>;
}

function stringField(value: unknown, name: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalidArgument(`${name} must be a string`);
  return value;
}

function annotationsField(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  const annotations = objectBody(value);
  for (const [key, text] of Object.entries(annotations)) {
    if (typeof text !== 'string')
      throw invalidArgument(`annotations[${JSON.stringify(key)}] must be a string`);
  }
  return annotations as Record<string, string>;
}

function selectorField(value: unknown): ateapi.Selector | undefined {
  if (value === undefined || value === null) return undefined;
  const matchLabels = objectBody(value)['matchLabels'] ?? {};
  const labels = objectBody(matchLabels);
  for (const [key, label] of Object.entries(labels)) {
    if (typeof label !== 'string')
      throw invalidArgument(`workerSelector.matchLabels[${JSON.stringify(key)}] must be a string`);
  }
  return { matchLabels: labels as Record<string, string> };
}
