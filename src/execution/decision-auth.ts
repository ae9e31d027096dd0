/**
 * Risk decisions are signed by the guardian and checked by the executor (RISK_SIGNING_KEY), so that an approval
 * written straight onto the bus by anyone but the guardian is never executed: it goes to the dead-letter channel
 * (which raises an alert) instead. Without a key configured decisions travel unsigned and are not checked
 * (the in-process default; a Redis deployment sets the key on the guardian and the executor).
 */
import type { AgentRuntime } from '../core/agent.ts';
import type { Envelope } from '../core/bus/types.ts';
import { channels } from '../core/channels.ts';
import type { RiskDecision } from '../core/messages.ts';
import { signed, verifySignature } from '../core/signing.ts';

/** The decision as the guardian publishes it: signed when RISK_SIGNING_KEY is set. */
export function signDecision(d: RiskDecision, rt: Pick<AgentRuntime, 'config'>): RiskDecision {
  const key = rt.config.signing?.riskKey;
  return key ? signed(d, key) : d;
}

/** True when the executor may act on `msg`; otherwise it has been dead-lettered with the reason. */
export function acceptDecision(msg: Envelope<RiskDecision>, rt: AgentRuntime): boolean {
  const key = rt.config.signing?.riskKey;
  if (!key) return true;
  const v = verifySignature(msg.body, key);
  if (v.ok) return true;
  rt.log.error(
    { messageId: msg.id, decision: msg.body.id, requestId: msg.body.requestId, why: v.reason },
    'refused a risk decision without a valid guardian signature',
  );
  rt.publish(channels.deadLetter(channels.riskDecisions), {
    type: 'dead_letter',
    channel: channels.riskDecisions.name,
    group: rt.agent.name,
    messageId: msg.id,
    attempts: msg.attempt,
    error: `refused: ${v.reason} (RISK_SIGNING_KEY)`,
    body: msg.body,
    ts: rt.clock.now(),
  });
  return false;
}
