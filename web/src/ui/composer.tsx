import type { CombinedError } from '@urql/core';
import { useState } from 'preact/hooks';
import { useMutation } from '@urql/preact';
import { graphql } from '../gql';
import type { WebChatMessageFragment } from '../gql/graphql';
import { clientId, errorText } from './util';

const Cancel = graphql(`
  mutation WebCancelGeneration($input: CancelGenerationInput!) { cancelGeneration(input: $input) { ...WebChatMessage } }
`);

/** Prompt, model picker, send; while a reply streams, a Stop button cancels it. */
export function ChatComposer(props: {
  models: string[];
  streaming?: WebChatMessageFragment;
  error?: CombinedError;
  disabled?: boolean;
  onSend(content: string, model: string | undefined, clientMsgId: string): Promise<boolean>;
}) {
  const [model, setModel] = useState(props.models[0]);
  const [, cancel] = useMutation(Cancel);
  return (
    <form
      class="composer"
      aria-label="Ask the assistant"
      onSubmit={async (e) => {
        e.preventDefault();
        const form = e.currentTarget as HTMLFormElement;
        const content = String(new FormData(form).get('prompt')).trim();
        if (!content) return;
        form.reset();
        await props.onSend(content, model, clientId());
      }}
    >
      <label for="prompt-input" class="sr-only">Prompt</label>
      <textarea
        id="prompt-input"
        name="prompt"
        rows={2}
        placeholder="Ask something (Enter sends)"
        disabled={props.disabled}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            (e.currentTarget as HTMLTextAreaElement).form?.requestSubmit();
          }
        }}
      />
      {props.models.length > 1 && (
        <label>
          Model{' '}
          <select value={model} onChange={(e) => setModel((e.target as HTMLSelectElement).value)}>
            {props.models.map((m) => (
              <option>{m}</option>
            ))}
          </select>
        </label>
      )}
      {props.streaming ? (
        <button type="button" onClick={() => cancel({ input: { messageId: props.streaming!.id } })}>Stop</button>
      ) : (
        <button type="submit" disabled={props.disabled}>Send</button>
      )}
      {props.error && <p role="alert">{errorText(props.error)}</p>}
    </form>
  );
}
