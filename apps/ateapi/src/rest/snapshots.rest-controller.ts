import { Body, Controller, HttpCode, Inject, Post, UseFilters } from '@nestjs/common';
import {
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { invalidArgument } from '../errors/control-error';
import { SnapshotCollector } from '../snapshots/snapshot-collector';
import { ErrorBody } from './dto';
import { HttpExceptionFilter } from './http-exception.filter';

export class SnapshotGcBody {
  @ApiPropertyOptional({
    type: Number,
    description: 'Committed snapshots to keep per actor (default 2).',
    example: 2,
  })
  keepLatest?: number;
  @ApiPropertyOptional({
    type: Number,
    description: 'Uploads without a manifest younger than this are left alone (default 3600).',
    example: 3600,
  })
  graceSeconds?: number;
  @ApiPropertyOptional({ type: Boolean, description: 'Report what would be deleted without deleting it.' })
  dryRun?: boolean;
}

export class SnapshotGcResponse {
  @ApiProperty({ type: Boolean }) dryRun!: boolean;
  @ApiProperty({ type: Number, description: 'Snapshots deleted (or that would be).' })
  snapshotsDeleted!: number;
  @ApiProperty({ type: Number }) bytesFreed!: number;
  @ApiProperty({
    type: Number,
    description:
      'Uploads cut off mid-file (older than the grace period, never completed) aborted, or that would be.',
  })
  abortedUploads!: number;
  @ApiProperty({ type: Number, description: 'Deletions that failed; the next run retries them.' })
  failures!: number;
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: 'Per snapshot location: what was deleted and kept.',
  })
  locations!: unknown[];
}

/** Snapshot garbage collection over every template's snapshot location (upstream has none). */
@ApiTags('snapshots')
@Controller('v1/snapshots')
@UseFilters(HttpExceptionFilter)
export class SnapshotsRestController {
  constructor(@Inject(SnapshotCollector) private readonly collector: SnapshotCollector) {}

  @Post('gc')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Delete old snapshots: keep the latest N committed per actor, drop abandoned uploads',
  })
  @ApiBody({ type: SnapshotGcBody, required: false })
  @ApiOkResponse({ type: SnapshotGcResponse })
  @ApiResponse({ status: 400, description: 'INVALID_ARGUMENT', type: ErrorBody })
  @ApiResponse({ status: 500, description: 'INTERNAL', type: ErrorBody })
  async collect(@Body() body: unknown) {
    const fields = (body ?? {}) as Record<string, unknown>;
    if (typeof fields !== 'object' || Array.isArray(fields))
      throw invalidArgument('the request body must be a JSON object');
    const { keepLatest, graceSeconds, dryRun } = fields;
    if (keepLatest !== undefined && typeof keepLatest !== 'number')
      throw invalidArgument('keepLatest must be a number');
    if (graceSeconds !== undefined && typeof graceSeconds !== 'number')
      throw invalidArgument('graceSeconds must be a number');
    if (dryRun !== undefined && typeof dryRun !== 'boolean')
      throw invalidArgument('dryRun must be a boolean');
    return this.collector.collect({
      ...(keepLatest === undefined ? {} : { keepLatest }),
      ...(graceSeconds === undefined ? {} : { graceMs: graceSeconds * 1000 }),
      ...(dryRun === undefined ? {} : { dryRun }),
    });
  }
}
