import { isUser } from '../../auth/rules.ts';

/** Blocking is a person's own choice (API keys and session tokens cannot block); the service checks who may be blocked. */
export const blocksRules = {
  Mutation: { blockUser: isUser, unblockUser: isUser },
};
