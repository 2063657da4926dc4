Contact    { id, start, ivrMs, visits, writtenAt,
             // views of the first visit, for code written before visits:
             queueIdentifier, queueName, channel, arrival, waitMs, handled, abandoned, legs, completion }
QueueVisit { queueIdentifier, queueName, channel, enteredAt, waitMs,
             outcome: "answered" | "abandoned" | "breakout", shortAbandoned, legs, end, writtenAt }
Leg        { agentId, start, talkMs, holdMs, afterCallWorkMs, transferred, kind: "agent" | "consult" }
Correction { contactId, visit, leg, field: "afterCallWorkMs", recorded, corrected, at }
Scenario   { seed, from, to, timezone, queues, agents, contacts, states, loggedOut, corrections, maxContactSpanMs }

export {}
