import type { KvKey } from '../../generated/sqlite/client.ts';

export type KvKeyTypeName = 'TEXT' | 'JSON' | 'MARKDOWN' | 'IMAGE';

/** A key as it crosses the pub/sub and as the event log stores it (JSON-safe: dates as ISO strings). */
export interface KvKeyJson {
  instanceId: string;
  name: string;
  value: unknown;
  type: KvKeyTypeName;
  contentType: string | null;
  readonly: boolean;
  visible: boolean;
  hardcoded: boolean;
  template: boolean;
  tags: string[];
  version: number;
  updatedById: string | null;
  updatedAt: string;
}

export type KvEventKind = 'KeyUpdated' | 'KeyDeleted' | 'Cleared';

/**
 * The public name of each kind, as kvEvents' union members and webhooks' `type` call it (the event log keeps
 * the stored kinds).
 */
export const KV_EVENT_TYPES: Record<KvEventKind, 'KvKeyUpdated' | 'KvKeyDeleted' | 'KvInstanceCleared'> = {
  KeyUpdated: 'KvKeyUpdated',
  KeyDeleted: 'KvKeyDeleted',
  Cleared: 'KvInstanceCleared',
};

/**
 * One change of an instance, as `Subscription.kvEvents` delivers it and the event log stores it.
 * orgId and projectId ride along so that listeners outside the graph (outbound webhooks) can route it
 * without a query.
 */
export interface KvEvent {
  orgId: string;
  projectId: string;
  instanceId: string;
  version: number;
  kind: KvEventKind;
  /** The key changed; null for Cleared. */
  name: string | null;
  /** The key after the change (KeyUpdated only). */
  key: KvKeyJson | null;
  at: string;
}

export type KvTopics = {
  'kv:event': [instanceId: string, payload: KvEvent];
};

export function keyToJson(k: KvKey): KvKeyJson {
  return {
    instanceId: k.instanceId,
    name: k.name,
    value: k.value ?? null,
    type: k.type as KvKeyTypeName,
    contentType: k.contentType,
    readonly: k.readonly,
    visible: k.visible,
    hardcoded: k.hardcoded,
    template: k.template,
    tags: (k.tags as string[]) ?? [],
    version: k.version,
    updatedById: k.updatedById,
    updatedAt: k.updatedAt.toISOString(),
  };
}

declare module '../../live/bus.ts' {
  /** Registers this domain's topics in the one typed map. */
  interface TopicRegistry extends KvTopics {}
}
