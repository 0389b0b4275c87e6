// What a front end asks of the API, in its own words: each function is one generated
// operation (src/operations), its result typed from the SDL.
import type { OversightClient } from './client';
import {
  AuditTrailDocument,
  ChildAllocationDocument,
  RecordManagementOversightDocument,
  ViewerDocument,
  WorkerTeamDocument,
  type AuditTrailSubscription,
  type ChildAllocationQuery,
  type RecordManagementOversightInput,
  type RecordManagementOversightMutation,
  type ViewerQuery,
  type WorkerTeamQuery,
} from './generated/graphql';

export type Viewer = ViewerQuery['viewer'];
export type ChildAllocation = NonNullable<ChildAllocationQuery['child']>;
export type WorkerTeam = NonNullable<WorkerTeamQuery['worker']>;
export type AuditEntry = AuditTrailSubscription['auditTrail']['node'];
export type CommandResult = RecordManagementOversightMutation['recordManagementOversight'];

/** Who is signed in, their authority and their teams. */
export async function signedIn(client: OversightClient): Promise<Viewer> {
  return (await client.execute(ViewerDocument)).viewer;
}

/** A child's team and allocated worker; null when the caller's authority has no such child. */
export async function childAllocation(
  client: OversightClient,
  childId: string,
  purpose: string,
): Promise<ChildAllocation | null> {
  return (await client.execute(ChildAllocationDocument, { childId, purpose })).child ?? null;
}

/** A worker's team; null when the caller's authority has no such worker. */
export async function workerTeam(
  client: OversightClient,
  staffId: string,
  purpose: string,
): Promise<WorkerTeam | null> {
  return (await client.execute(WorkerTeamDocument, { staffId, purpose })).worker ?? null;
}

/** Records a management oversight as the signed-in manager; the API's answer, typed. */
export async function recordManagementOversight(
  client: OversightClient,
  input: RecordManagementOversightInput,
  idempotencyKey: string,
): Promise<CommandResult> {
  const answer = await client.execute(RecordManagementOversightDocument, {
    input,
    idempotencyKey,
  });
  return answer.recordManagementOversight;
}

/** A line for the user: what the API said, problems naming their field and rule. */
export function describe(result: CommandResult): string {
  switch (result.__typename) {
    case 'CommandSuccess':
      return result.replayed
        ? `Already recorded (${result.idempotencyKey})`
        : `Recorded at position ${result.position ?? '-'}`;
    case 'ValidationProblem':
    case 'RuleViolationProblem':
      return `${result.message} (${[result.field, result.rule].filter(Boolean).join(', ')})`;
    case 'NotFoundProblem':
      return `Not found: ${result.message}`;
    case 'ConflictProblem':
      return result.retryable ? `Try again: ${result.message}` : result.message;
    case 'ForbiddenProblem':
      return `Not allowed: ${result.message}${result.rule ? ` [${result.rule}]` : ''}`;
    default:
      // A kind of answer this client was built before: say so rather than guess.
      return `Unexpected answer: ${(result as { __typename?: string }).__typename ?? '?'}`;
  }
}

/**
 * Follows a child's audit trail live; returns the function that stops it. `onEntry` gets
 * each entry with its cursor: pass the last cursor seen as `after` to resume, after a lost
 * connection, with nothing missed or repeated.
 */
export function followAuditTrail(
  client: OversightClient,
  childId: string,
  purpose: string,
  onEntry: (entry: AuditEntry, cursor: string) => void,
  after?: string,
): () => void {
  return client.subscribe(AuditTrailDocument, { childId, purpose, after }, (data) =>
    onEntry(data.auditTrail.node, data.auditTrail.cursor),
  );
}
