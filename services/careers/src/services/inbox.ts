import {
  DomainError,
  ErrorCode,
  badInput,
  isUuid,
  requireCaller,
  toConnection,
  type Caller,
  type Connection,
  type PageArgs,
} from '@vtv/kit';
import type { InboxMessageRow } from '../data/entities';
import type { InboxRepository } from '../data/notification-repository';
import { beforeIdOf, isSelf } from './access';

export interface InboxArgs extends PageArgs {
  unreadOnly?: boolean | null;
}

/** The in-app inbox (站内信): the person's own messages only. */
export class InboxService {
  constructor(
    private readonly inbox: InboxRepository,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Newest first; null for anyone but the person. */
  async forPerson(
    caller: Caller,
    personId: string,
    args: InboxArgs,
  ): Promise<(Connection<InboxMessageRow> & { personId: string }) | null> {
    if (!isSelf(caller, personId)) return null;
    const { limit, beforeId } = beforeIdOf(args);
    const rows = await this.inbox.page(personId, args.unreadOnly ?? false, beforeId, limit);
    return { ...toConnection(rows, limit, (r) => r.id), personId };
  }

  unreadCount(personId: string): Promise<number> {
    return this.inbox.unreadCount(personId);
  }

  /** Marks the caller's own messages read; ids of others' messages are ignored (not theirs to know). */
  async markRead(
    caller: Caller,
    ids: string[],
  ): Promise<{ messages: InboxMessageRow[]; unreadCount: number }> {
    requireCaller(caller);
    if (caller.kind !== 'person')
      throw new DomainError(ErrorCode.FORBIDDEN, 'Only the person themself reads their inbox');
    if (ids.length === 0 || ids.length > 100) throw badInput('ids', 'Give 1 to 100 message ids');
    if (ids.some((id) => !isUuid(id))) throw badInput('ids', 'ids must be message ids');
    const messages = await this.inbox.markRead(caller.id, ids, this.now());
    return { messages, unreadCount: await this.inbox.unreadCount(caller.id) };
  }
}
