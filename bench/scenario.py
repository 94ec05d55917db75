"""What the simulated patients say: topic questions, small talk and a full pass through the consent flow.

A conversation of N messages is built from three parts, varied by its index so
20 conversations do not all send the same text at the same moment:

* an opening: a greeting and one or more topic questions (small talk and topics);
* the consent pass (18 messages): "I want to go ahead", the 11 candidacy answers
  (button titles and short free text), the 5 understanding answers in the
  patient's own words, and the decision "Go ahead"; one topic question asked in
  the middle of the candidacy step when there is room;
* a closing of small talk ("thanks", "bye") when N leaves room after the pass.

With N >= 18 every conversation completes the pass and stores one consent
record, which the benchmark counts as a check that the answers were right.
"""

from __future__ import annotations

from dataclasses import dataclass

GREETINGS = ["hi", "hello", "good morning", "hey there"]
SMALL_TALK = ["thanks", "thank you", "ok thanks", "great, thanks"]
CLOSINGS = ["bye", "goodbye", "that's all, bye"]
TOPICS = [
    "how long does it take?",
    "what are the side effects?",
    "what exactly is a rhizotomy injection",
    "how does the injection work",
    "when will i start to feel relief",
    "what is recovery like afterwards",
    "will i need more injections later",
    "is the injection safe",
    "do they use x-rays to guide the needle",
    "what are the benefits",
]
START = "I want to go ahead"
CANDIDACY = [
    ["Pain", "Muscle spasms", "Both"],
    ["arthritis in my lower back", "multiple sclerosis", "a spinal cord injury"],
    ["7", "6", "8"],
    ["physio and pain pills", "baclofen and physical therapy", "earlier injections"],
    ["A little", "No", "Yes"],
    ["No"],  # blood thinner
    ["No"],  # allergies
    ["No"],  # infection or fever
    ["Does not apply", "No"],  # pregnancy
    ["No"],  # bleeding
    ["No", "none"],  # other health problems
]
UNDERSTANDING = [
    ["it blocks pain signals", "it stops the nerve sending the pain signals"],
    ["soreness where the needle went in", "some soreness where the needle goes in"],
    ["an infection", "infection"],
    ["no, it can wear off", "No, it can wear off and I may need another"],
    ["no, it is not a cure", "no, it helps but it is not a cure"],
]
DECISION = "Go ahead"
CONSENT_LENGTH = 1 + len(CANDIDACY) + len(UNDERSTANDING) + 1  # 18


@dataclass(frozen=True)
class Conversation:
    """One simulated patient: the messages in order, and whether they complete the consent pass."""

    messages: tuple[str, ...]
    completes_consent: bool


def consent_pass(index: int) -> list[str]:
    answers = [START]
    answers += [options[index % len(options)] for options in CANDIDACY]
    answers += [options[index % len(options)] for options in UNDERSTANDING]
    answers.append(DECISION)
    return answers


def questions_only(index: int, length: int) -> list[str]:
    """A patient who only asks: a greeting, topic questions with small talk between them, a goodbye."""
    messages = [GREETINGS[index % len(GREETINGS)]]
    k = 0
    while len(messages) < length - 1:
        messages.append(TOPICS[(index + k) % len(TOPICS)])
        if len(messages) < length - 1 and k % 3 == 2:
            messages.append(SMALL_TALK[(index + k) % len(SMALL_TALK)])
        k += 1
    if length > 1:
        messages.append(CLOSINGS[index % len(CLOSINGS)])
    return messages[:length]


def conversation(index: int, length: int) -> Conversation:
    """The ``index``-th patient's ``length`` messages.

    Three patients in four go through the consent flow; the fourth only asks
    questions. Short conversations (``length`` < 18) send as much of the pass as fits.
    """
    if length <= 0:
        return Conversation((), False)
    if index % 4 == 3:
        return Conversation(tuple(questions_only(index, length)), False)
    greeting = GREETINGS[index % len(GREETINGS)]
    topics = [TOPICS[(index + k) % len(TOPICS)] for k in range(len(TOPICS))]
    if length < CONSENT_LENGTH:
        opening = [greeting, topics[0], SMALL_TALK[index % len(SMALL_TALK)]][: max(1, length // 3)]
        return Conversation(tuple((opening + consent_pass(index))[:length]), False)
    spare = length - CONSENT_LENGTH
    middle = consent_pass(index)
    opening = [greeting, topics[0]][: min(spare, 2)]
    spare -= len(opening)
    if spare >= 1:  # a topic question in the middle of the candidacy step: answered, then the question again
        middle.insert(4, topics[1])
        spare -= 1
    tail = [*SMALL_TALK[:1], *topics[2:], *CLOSINGS[:1]]
    closing = [tail[k % len(tail)] for k in range(spare)]
    return Conversation(tuple(opening + middle + closing), True)


if __name__ == "__main__":
    for n in (5, 10, 18, 19, 20, 21, 26, 40):
        c = conversation(1, n)
        print(n, len(c.messages), c.completes_consent, c.messages)
