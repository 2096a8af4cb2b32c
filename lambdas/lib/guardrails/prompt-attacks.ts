/**
 * Known prompt-injection and jailbreak phrasings (OWASP LLM01:2025 Prompt Injection), one family
 * per entry with where it comes from. Each pattern is matched against the visitor's message in
 * the form `normalizeForMatching` gives it (lower case, letters and digits only, one space
 * between words), where a space in a pattern also matches no space ("ignoreprevious").
 * `delimiters` patterns are matched against the NFKC, lower-cased raw text instead, because they
 * are made of punctuation. A pattern list catches the phrasings people copy, not a determined
 * attacker who rephrases: see README "Guardrails" for the limits, and `GUARDRAIL_PROVIDER=bedrock`
 * for a classifier. Add a phrasing here together with its test (test/unit/lib/guardrails).
 */

/** One family of attacks. */
export interface AttackFamily {
  readonly id: string;
  /** Where the phrasings come from. */
  readonly source: string;
  /** Word patterns over the normalised text (see the module comment). */
  readonly words: readonly string[];
  /** Patterns over the NFKC, lower-cased raw text. */
  readonly delimiters?: readonly RegExp[];
}

const PREVIOUS =
  '(?:all |any |the |your |my |these |those )?(?:previous|prior|above|earlier|preceding|initial|original|system|old|existing)';
const INSTRUCTIONS =
  '(?:instructions?|prompts?|rules|directions|directives|guidelines|guidance|context|commands?|programming)';
const PROMPT =
  '(?:system|initial|original|hidden|secret|developer|internal|pre) ?(?:prompt|instructions?|message|rules)';

export const ATTACK_FAMILIES: readonly AttackFamily[] = [
  {
    id: 'instruction-override',
    source:
      'OWASP LLM01:2025 scenario "direct injection"; Perez & Ribeiro, "Ignore Previous Prompt: Attack Techniques For Language Models" (2022)',
    words: [
      `(?:ignore|disregard|forget|override|bypass|skip|drop|abandon) ${PREVIOUS} ${INSTRUCTIONS}`,
      `(?:ignore|disregard|forget) (?:all |everything )?(?:of )?(?:the |what )?(?:text |was said |you were told )?(?:above|before|so far|previously)`,
      `(?:ignore|disregard|forget) (?:all|everything) (?:you (?:were|have been) told|your (?:rules|instructions|training))`,
      `(?:ignore|disregard|forget|override|bypass) (?:all |any )?(?:of )?your ${INSTRUCTIONS}`,
      `(?:your )?new instructions (?:are|follow)`,
      `(?:do not|don t|dont) follow (?:your|the|any) ${PREVIOUS}? ?${INSTRUCTIONS}`,
    ],
  },
  {
    id: 'system-prompt-extraction',
    source:
      'OWASP LLM07:2025 System Prompt Leakage; LLM01:2025 examples; Greshake et al., "Not what you\'ve signed up for" (2023)',
    words: [
      `(?:reveal|show|print|repeat|output|display|tell|give|leak|dump|share|write|recite|spell|list|what (?:is|are|was|were)) (?:me |us )?(?:out )?(?:your|the) (?:full |whole |exact |entire |complete )?${PROMPT}`,
      `(?:repeat|print|output|recite) (?:the |all )?(?:words|text|everything|lines?) (?:above|before)(?: this)?`,
      `(?:repeat|print|output|show) (?:me |us )?(?:your|the) prompt`,
      `what (?:were|are) you told (?:before|at the start|initially)`,
    ],
  },
  {
    id: 'unrestricted-role-play',
    source:
      'Shen et al., "Do Anything Now: Characterizing and Evaluating In-The-Wild Jailbreak Prompts on LLMs" (CCS 2024): DAN, developer mode, evil confidant',
    words: [
      `do anything now`,
      `(?:you are now|you re now|youre now|act as|pretend to be|roleplay as|role play as|from now on you are) (?:a |an )?dan`,
      `(?:you are|you re|youre|act as|pretend to be|pretend you are|roleplay as|role play as|behave like|become) (?:now )?(?:a |an )?(?:jailbroken|unrestricted|unfiltered|uncensored|unaligned)`,
      `(?:you are|you re|youre|act as|pretend to be|pretend you are|roleplay as|role play as|behave like|become) (?:now )?(?:a |an )?(?:evil|amoral|unlimited|unethical) (?:ai|model|assistant|chatbot|bot|version|confidant)`,
      `(?:developer|god|jailbreak|dan|unrestricted|unfiltered|debug) mode (?:enabled|activated|on|engaged)`,
      `(?:enable|activate|enter|switch to) (?:developer|god|jailbreak|dan|unrestricted|unfiltered) mode`,
      `pretend (?:that )?you (?:have no|don t have|dont have|are not bound by|aren t bound by|are free from) (?:any )?(?:restrictions|rules|limits|guidelines|filters|policies)`,
      `(?:without|free of|no longer bound by) (?:any )?(?:ethical |moral |content )?(?:restrictions|guidelines|filters|limitations|policies) (?:from now on|anymore)`,
    ],
  },
  {
    id: 'safety-bypass',
    source: 'OWASP LLM01:2025 (jailbreaking); MITRE ATLAS AML.T0054 "LLM Jailbreak"',
    words: [
      `(?:disable|turn off|switch off|remove|bypass|ignore|deactivate) (?:your |all |the |any )?(?:safety |content |ethical |moral )?(?:filters?|guardrails?|restrictions|safeguards|censorship|moderation)`,
    ],
  },
  {
    id: 'delimiter-injection',
    source:
      'OWASP LLM01:2025 (instructions hidden in role delimiters); ChatML (<|im_start|>), Llama 2 ([INST], <<SYS>>) and Markdown role headers',
    words: [],
    delimiters: [
      /<\|\s*(?:im_start|im_end|system|endoftext)\s*\|>/,
      /\[\/?inst\]/,
      /<<\s*\/?sys\s*>>/,
      /(?:^|\n)\s*#{1,6}\s*(?:system|new instructions)\s*:?\s*(?:\n|$)/,
      /(?:^|\n)\s*\[?(?:system|developer)\]?\s*:\s*(?:you|ignore|new)/,
    ],
  },
];
