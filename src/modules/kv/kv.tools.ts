import { actingUserId } from '../../auth/viewer.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { badInput, forbidden, notFound } from '../../errors.ts';
import type { ThreadTool } from '../chat/chat.turn.ts';
import { requireInstance, type Access } from './kv.access.ts';
import { deleteKey, getKey, listKeys, setKey } from './kv.keys.ts';
import type { KvActor } from './kv.service.ts';

interface Attached {
  instanceId: string;
  name: string;
  editMode: boolean;
}

const str = (description: string) => ({ type: 'string', description });

/**
 * The KV tools of a thread with attached instances: read_key, list_keys (READ) and write_key,
 * delete_key (WRITE), each checked per call against the rights of the user whose turn it is, so a
 * reader cannot get writes done through the assistant. Readonly keys are refused unless the
 * attachment is in edit mode (then the write is an AI operation in edit mode); an ADMIN's own
 * override does not pass to the assistant. Writes go through the KV service, so they publish kvEvents.
 */
export async function kvThreadTools(ctx: Context, threadId: string): Promise<ThreadTool[]> {
  const rows = await db.kvAttachment.findMany({
    where: { threadId },
    orderBy: [{ createdAt: 'asc' }, { instanceId: 'asc' }],
    select: { instanceId: true, editMode: true, instance: { select: { name: true } } },
  });
  if (!rows.length) return [];
  const attached: Attached[] = rows.map((r) => ({ instanceId: r.instanceId, name: r.instance.name, editMode: r.editMode }));
  const names = attached.map((a) => `"${a.name}"`).join(', ');
  const instanceParam = str(`The attached KV instance, by name or id: one of ${names}${attached.length === 1 ? ' (may be left out)' : ''}`);
  const params = (props: Record<string, unknown>, required: string[]) => ({
    type: 'object',
    properties: { instance: instanceParam, ...props },
    required: attached.length === 1 ? required : ['instance', ...required],
  });

  /** The attachment the call names, and the user's access to it (at least `need`). */
  const target = async (args: Record<string, unknown>, need: Access) => {
    const given = typeof args.instance === 'string' ? args.instance : undefined;
    const found = given === undefined ? (attached.length === 1 ? attached[0] : undefined) : attached.find((a) => a.name === given || a.instanceId === given);
    if (!found) throw given === undefined ? badInput(`Name the instance: one of ${names}`, 'instance') : notFound(`Attached KV instance "${given}"`);
    const access = await requireInstance(ctx, found.instanceId, need);
    return { ...found, access };
  };
  const actor = (t: Attached & { access: Access }): KvActor => {
    const userId = actingUserId(ctx.viewer);
    if (!userId) throw forbidden();
    return { userId, access: t.access === 'ADMIN' ? 'WRITE' : t.access, editMode: t.editMode };
  };
  const keyName = (args: Record<string, unknown>) => {
    if (typeof args.name !== 'string' || !args.name.trim()) throw badInput('name: a key name is required', 'name');
    return args.name;
  };

  return [
    {
      definition: { name: 'read_key', description: 'Reads one key of a KV instance attached to this conversation.', parameters: params({ name: str('The key name') }, ['name']) },
      async run(args) {
        const t = await target(args, 'READ');
        const key = await getKey(t.instanceId, keyName(args));
        if (!key) throw notFound(`Key "${args.name}"`);
        return { name: key.name, type: key.type, value: key.type === 'IMAGE' ? '[image]' : key.value, readonly: key.readonly, version: key.version };
      },
    },
    {
      definition: { name: 'list_keys', description: 'Lists the keys of a KV instance attached to this conversation (names, types, flags; no values).', parameters: params({ tag: str('Only keys with this tag') }, []) },
      async run(args) {
        const t = await target(args, 'READ');
        const keys = await listKeys(t.instanceId, { tag: typeof args.tag === 'string' ? args.tag : null });
        return { keys: keys.map((k) => ({ name: k.name, type: k.type, readonly: k.readonly, tags: k.tags, version: k.version })) };
      },
    },
    {
      definition: {
        name: 'write_key',
        description: 'Creates or replaces a key of a KV instance attached to this conversation. Readonly keys cannot be written unless the conversation is in edit mode.',
        parameters: params({ name: str('The key name'), value: { description: 'The value: a string, or any JSON for a JSON key' } }, ['name', 'value']),
      },
      async run(args) {
        const t = await target(args, 'WRITE');
        const key = await setKey(ctx.app, t.instanceId, actor(t), { name: keyName(args), value: args.value });
        return { name: key.name, version: key.version };
      },
    },
    {
      definition: { name: 'delete_key', description: 'Deletes a key of a KV instance attached to this conversation (same readonly rule as write_key).', parameters: params({ name: str('The key name') }, ['name']) },
      async run(args) {
        const t = await target(args, 'WRITE');
        return { deleted: keyName(args), version: await deleteKey(ctx.app, t.instanceId, actor(t), { name: args.name }) };
      },
    },
  ];
}
