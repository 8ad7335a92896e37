import { graphql } from '../gql/index.ts';
import type { TestServer } from './server.ts';

const CreateThread = graphql(`
  mutation ChatHelperCreateThread($input: CreateThreadInput!) {
    createThread(input: $input) { id title createdAt }
  }
`);
const Send = graphql(`
  mutation ChatHelperSend($input: SendThreadMessageInput!) {
    sendThreadMessage(input: $input) {
      deduplicated
      userMessage { id seq role status content }
      assistantMessage { id seq role status content error model promptTokens completionTokens }
    }
  }
`);

export async function createThread(server: TestServer, token: string, orgId: string, title = 'A thread', projectId?: string) {
  const { createThread } = await server.ok(CreateThread, { input: { orgId, title, projectId } }, { token });
  return createThread;
}

export async function send(server: TestServer, auth: { token?: string; apiKey?: string }, threadId: string, content: string, extra: { model?: string; clientMsgId?: string } = {}) {
  const { sendThreadMessage } = await server.ok(Send, { input: { threadId, content, ...extra } }, auth);
  return sendThreadMessage;
}

export { Send as ChatSendDoc };
