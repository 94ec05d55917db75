#!/usr/bin/env bash
# The measured quality gates: NLU held-out accuracy, emergency recall / false alarms, teach-back accuracy.
# Each judge is measured on a held-out set by independent writers and, separately, on a fresh set
# written after its last change and never tuned on (the honest number).
# The gates after `rasa test nlu` run in one Python process (`devtools.evaluation plan`), so the trained
# model, spaCy and the safety net load once: a line of arguments per gate, "==>" and indented lines printed.
set -euo pipefail
BIN=.venv/bin
# pyparsing (under packaging, under Rasa) warns of its renamed methods on import: noise in the report
export PYTHONWARNINGS="ignore::DeprecationWarning"
MODEL=models/rhizotomy.tar.gz
mkdir -p results
echo "==> NLU evaluation on the held-out set (tests/nlu/heldout.yml)"
"$BIN/rasa" test nlu --nlu tests/nlu/heldout.yml --model "$MODEL" --out results/nlu --quiet > results/nlu.log 2>&1 \
  || { tail -20 results/nlu.log; exit 1; }
status=0
"$BIN/python" -m devtools.evaluation plan - <<'GATES' \
  2> >(grep -vE "tensorflow|oneDNN|cuda|cpu_feature|TensorRT|AVX|Warning|^  (from|self|cli|REQUIREMENT)" >&2) || status=1
nlu results/nlu/intent_report.json --min 0.95
==> topic questions by new independent writers (tests/data/nlu/heldout: caregivers, older, non-native, texting) with the first set
    gate: a floor against regressions (90% with the first set), not issue 15's 95%; figures: mistaken beliefs corrected
    (89% before seven training writers of caregivers', older, second-language, texting and hopeful voices, tn1-tn7;
    four more, tn8-tn11: dictation, carers and health workers, a story first, a neighbouring topic named; and
    tn16-tn19: creole and pidgin voices, a belief first, fragments and letters, a condition that shapes the question)
topics tests/data/nlu/heldout --also tests/nlu/heldout.yml --min 0.90
==> topic questions on the fresh set (tests/data/nlu/fresh: written after the last change, never tuned on)
topics tests/data/nlu/fresh
==> emergency detection on the labelled set (tests/data/red_flags.yml)
red-flags tests/data/red_flags.yml --model models/rhizotomy.tar.gz --min-recall 1.0 --max-false-alarms 0.05
==> safety net (rules + learned layer) on the held-out set by independent writers (tests/data/safety/heldout)
    issue 13's target: every emergency told 911 or conditionally, 988 on every self-harm message, at most 3% of
    look-alikes told 911 falsely; the gate leaves room for two emergencies and 1% of 988s (a model refitted on another
    machine may round a borderline score the other way); the held-out set grows by each earlier fresh set, misses and all
safety tests/data/safety/heldout --min-recall 0.999 --max-false-alarms 0.03 --min-crisis-line 0.99
==> safety net on the fresh set (tests/data/safety/fresh: written after the last change, never tuned on)
safety tests/data/safety/fresh
==> safety net on ordinary answers to the steps' questions (every candidacy and teach-back evaluation answer)
    gate: a floor against regressions (at most 10% given advice, 3% told 911), not the target (none)
ordinary tests/data/candidacy/heldout tests/data/candidacy/fresh tests/data/teachback/heldout tests/data/teachback/fresh --max-advice 0.1 --max-911 0.03
==> safety net on ordinary Spanish messages by independent writers (tests/data/nlu/es: none an emergency)
    gate on the held-out writers: a floor against regressions (at most 10% given advice, 3% told 911)
ordinary tests/data/nlu/es/heldout --max-advice 0.1 --max-911 0.03
ordinary tests/data/nlu/es/fresh
==> Spanish questions by independent writers (tests/data/nlu/es/heldout), issue 18: its target is 95%
    gate: a floor against regressions (85%), not the target
topics tests/data/nlu/es/heldout --min 0.85
==> Spanish questions on the fresh set (tests/data/nlu/es/fresh: written after the last change, never tuned on)
topics tests/data/nlu/es/fresh
==> Spanish candidacy answers by an independent writer (tests/data/candidacy/es/heldout): no wrong value
candidacy tests/data/candidacy/es/heldout --language es --max-wrong 0
==> Spanish candidacy answers on the fresh set (tests/data/candidacy/es/fresh: written after the last change)
candidacy tests/data/candidacy/es/fresh --language es
==> Spanish teach-back answers by six independent writers (tests/data/teachback/es/heldout): over 110 a side a point
    gate: a floor against regressions (85% each side), not the target (95%)
teachback tests/data/teachback/es/heldout --language es --min 0.85
==> Spanish teach-back answers on the fresh set (tests/data/teachback/es/fresh: written after the last change)
teachback tests/data/teachback/es/fresh --language es
==> candidacy answers on the held-out set by independent writers (tests/data/candidacy/heldout): no wrong value
candidacy tests/data/candidacy/heldout --max-wrong 0
==> candidacy answers on the fresh set (tests/data/candidacy/fresh: written after the last change, never tuned on)
candidacy tests/data/candidacy/fresh
==> teach-back judge on the project's first labelled answers (tests/data/teachback_answers.yml)
teachback tests/data/teachback_answers.yml --min 0.9
==> teach-back judge on the held-out answers by independent writers (tests/data/teachback/heldout)
    gate: a floor against regressions (94% each side); issue 15's target, 95% each side, is met on this set
teachback tests/data/teachback/heldout --min 0.94
==> teach-back judge on the fresh answers (tests/data/teachback/fresh: written after the last change)
teachback tests/data/teachback/fresh
GATES
echo "==> reading ease of every Spanish text a patient can read (Fernández Huerta; 70 and up is fairly easy)"
"$BIN/python" -m devtools.reading es --min 70 || status=1
exit $status
