// JSON shapes of the REST gateway, as classes so @nestjs/swagger can describe them in the OpenAPI
// document. The wire JSON is the protobuf JSON mapping of the ateapi messages (lowerCamelCase names,
// enums by name, omitted zero values are filled in); these classes document it, the ts-proto toJSON /
// fromJSON functions produce and read it.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const STATUSES = [
  'STATUS_UNSPECIFIED',
  'STATUS_RESUMING',
  'STATUS_RUNNING',
  'STATUS_SUSPENDING',
  'STATUS_SUSPENDED',
  'STATUS_PAUSING',
  'STATUS_PAUSED',
];

export class SelectorDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'Equality match on WorkerPool labels; at most 10 entries.',
    example: { tier: 'gold' },
  })
  matchLabels!: Record<string, string>;
}

export class ExternalSnapshotInfoDto {
  @ApiProperty({
    type: String,
    example: 'gs://bucket/snapshots/counter-1.default/20261130T093015123Z-ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  })
  snapshotUriPrefix!: string;
}

export class LocalSnapshotInfoDto {
  @ApiProperty({ type: String }) snapshotPrefix!: string;
  @ApiProperty({
    type: [String],
    description: 'Nodes holding the node-local snapshot; the next resume must run on one of them.',
  })
  nodeVmsWithLocalSnapshots!: string[];
}

export class SnapshotInfoDto {
  @ApiProperty({ enum: ['SNAPSHOT_TYPE_UNSPECIFIED', 'SNAPSHOT_TYPE_LOCAL', 'SNAPSHOT_TYPE_EXTERNAL'] })
  type!: string;
  @ApiPropertyOptional({ type: ExternalSnapshotInfoDto }) external?: ExternalSnapshotInfoDto;
  @ApiPropertyOptional({ type: LocalSnapshotInfoDto }) local?: LocalSnapshotInfoDto;
}

export class ActorDto {
  @ApiProperty({ type: String, example: 'counter-1' }) actorId!: string;
  @ApiProperty({ type: String, example: 'default' }) atespace!: string;
  @ApiProperty({
    type: Number,
    description: 'Optimistic-concurrency counter: 1 at creation, +1 on every update.',
    example: 3,
  })
  version!: number;
  @ApiProperty({ type: String }) actorTemplateNamespace!: string;
  @ApiProperty({ type: String }) actorTemplateName!: string;
  @ApiProperty({ enum: STATUSES, example: 'STATUS_RUNNING' }) status!: string;
  @ApiProperty({ type: String, description: 'Assigned worker (empty when none).' })
  ateomPodNamespace!: string;
  @ApiProperty({ type: String }) ateomPodName!: string;
  @ApiProperty({ type: String, description: "Where the router sends the actor's traffic." })
  ateomPodIp!: string;
  @ApiProperty({ type: Number, description: 'HTTP port on ateomPodIp; 0 means 80.' }) ateomPodPort!: number;
  @ApiProperty({ type: String }) ateomPodUid!: string;
  @ApiProperty({ type: String }) workerPoolName!: string;
  @ApiProperty({ type: String, description: 'Snapshot being written while SUSPENDING or PAUSING.' })
  inProgressSnapshot!: string;
  @ApiPropertyOptional({ type: SnapshotInfoDto }) latestSnapshotInfo?: SnapshotInfoDto;
  @ApiPropertyOptional({ type: SelectorDto }) workerSelector?: SelectorDto;
  @ApiProperty({ type: Number, description: 'When the status last changed (Unix ms).' })
  statusChangedUnixMs!: number;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'Annotations given at creation (immutable).',
    example: { 'substrate.ate.dev/idle-suspend-after': '5m' },
  })
  annotations?: Record<string, string>;
  @ApiPropertyOptional({
    type: Number,
    description:
      "Effective idle auto-suspend timeout in ms (0 = off): the actor's substrate.ate.dev/idle-suspend-after annotation, else its template's; absent when neither sets one.",
  })
  idleSuspendAfterMs?: number;
}

export class WorkerDto {
  @ApiProperty({ type: String }) workerNamespace!: string;
  @ApiProperty({ type: String }) workerPool!: string;
  @ApiProperty({ type: String }) workerPod!: string;
  @ApiProperty({ type: String }) ip!: string;
  @ApiProperty({ type: Number }) httpPort!: number;
  @ApiProperty({ type: String }) nodeName!: string;
  @ApiProperty({ type: String }) workerPodUid!: string;
  @ApiProperty({ type: String, description: 'Assigned actor; empty when the worker is free.' })
  actorId!: string;
  @ApiProperty({ type: String }) actorAtespace!: string;
  @ApiProperty({ type: String }) actorNamespace!: string;
  @ApiProperty({ type: String }) actorTemplate!: string;
  @ApiProperty({ type: Number }) version!: number;
  @ApiProperty({ type: String }) ateletEndpoint!: string;
  @ApiProperty({ type: Number }) claimedUnixMs!: number;
  @ApiProperty({ type: Number }) leaseExpiresUnixMs!: number;
}

export class AtespaceDto {
  @ApiProperty({ type: String, example: 'default' }) name!: string;
}

export class CreateAtespaceBody {
  @ApiProperty({ type: String, example: 'team-a', description: 'DNS-1123 label, at most 63 characters.' })
  name!: string;
}

export class CreateActorBody {
  @ApiProperty({
    type: String,
    example: 'counter-1',
    description: 'DNS-1123 label, unique within the atespace.',
  })
  actorId!: string;
  @ApiProperty({ type: String, example: 'ate-demo-counter' }) actorTemplateNamespace!: string;
  @ApiProperty({ type: String, example: 'counter' }) actorTemplateName!: string;
  @ApiPropertyOptional({ type: SelectorDto }) workerSelector?: SelectorDto;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    description:
      'Annotations stored on the actor; keys are Kubernetes qualified names. substrate.ate.dev/idle-suspend-after: a duration (30s, 5m, 1h30m) or 0/off.',
    example: { 'substrate.ate.dev/idle-suspend-after': '5m' },
  })
  annotations?: Record<string, string>;
}

export class UpdateActorBody {
  @ApiPropertyOptional({ type: SelectorDto, description: 'Replaces the selector; omit to clear it.' })
  workerSelector?: SelectorDto;
}

export class ResumeActorBody {
  @ApiPropertyOptional({
    type: Boolean,
    description:
      'Cold-boot from the image even if a golden snapshot exists (only when the actor has no snapshot of its own).',
  })
  boot?: boolean;
}

export class ActorResponse {
  @ApiProperty({ type: ActorDto }) actor!: ActorDto;
}

export class ActorListResponse {
  @ApiProperty({ type: [ActorDto] }) actors!: ActorDto[];
  @ApiProperty({
    type: String,
    description: 'Pass as pageToken for the next page; empty when the listing is complete.',
  })
  nextPageToken!: string;
}

export class WorkerListResponse {
  @ApiProperty({ type: [WorkerDto] }) workers!: WorkerDto[];
}

export class AtespaceResponse {
  @ApiProperty({ type: AtespaceDto }) atespace!: AtespaceDto;
}

export class AtespaceListResponse {
  @ApiProperty({ type: [AtespaceDto] }) atespaces!: AtespaceDto[];
}

export class ErrorBody {
  @ApiProperty({ type: String, description: 'The gRPC status name of the failure.', example: 'NOT_FOUND' })
  code!: string;
  @ApiProperty({
    type: String,
    description: 'The same message the gRPC API returns.',
    example: 'Actor counter-1 not found',
  })
  message!: string;
}
