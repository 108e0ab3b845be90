import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * What operators filter conversations by in the Temporal Web UI, e.g.
 * `ConversationStatus = "queued" AND PhoneNumberId = "1065…"`. Deliberately no phone
 * number and no message text: search attributes are stored in clear and shown in the UI.
 */
export const ConversationStatusKey = defineSearchAttributeKey('ConversationStatus', SearchAttributeType.KEYWORD);
export const PhoneNumberIdKey = defineSearchAttributeKey('PhoneNumberId', SearchAttributeType.KEYWORD);
export const AssignedAgentIdKey = defineSearchAttributeKey('AssignedAgentId', SearchAttributeType.KEYWORD);
export const ConversationIdKey = defineSearchAttributeKey('ConversationId', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTE_KEYS = [ConversationStatusKey, PhoneNumberIdKey, AssignedAgentIdKey, ConversationIdKey];
