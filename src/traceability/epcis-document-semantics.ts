/**
 * The two semantic checks {@link validateEpcisDocument} delegates: identifiers (EPC URN or
 * GS1 Digital Link, check digits) and CBV vocabulary (bare, URN and web forms).
 *
 * Identifiers go through `parseEpc` (`epc-identifiers.ts`), vocabulary through
 * `cbvBareForm` (`cbv-vocabulary.ts`); this file only adds the JSON path to their errors.
 * @module
 */
import { SilkError } from '../errors.js';
import { cbvBareForm } from './cbv-vocabulary.js';
import { parseEpc } from './epc-identifiers.js';

/** The CBV (and GS1 web vocabulary) code lists the validator checks. */
export type VocabularyKind =
  | 'bizStep'
  | 'disposition'
  | 'bizTransactionType'
  | 'sourceDestinationType'
  | 'errorReason'
  | 'measurementType'
  | 'sensorAlertType'
  | 'component';

/**
 * Normalises a CBV value to its bare form (`receiving`) with `cbv-vocabulary.ts`; a URI
 * outside the standard vocabulary (a private extension value) is returned as given.
 * @param kind - which code list
 * @param value - bare, URN or web form
 * @param path - JSON path, for the error
 * @throws SilkError `INVALID_ARGUMENT` (details.path) for an unknown standard value
 * @example
 * normaliseVocabulary('bizStep', 'https://ref.gs1.org/cbv/BizStep-shipping', 'bizStep'); // 'shipping'
 */
export function normaliseVocabulary(kind: VocabularyKind, value: string, path: string): string {
  try {
    return cbvBareForm(kind === 'sourceDestinationType' ? 'sourceDestType' : kind, value);
  } catch (error) {
    if (!(error instanceof SilkError)) throw error;
    throw new SilkError('INVALID_ARGUMENT', `${path}: ${error.message}`, { path }, { cause: error });
  }
}

const DIGITAL_LINK_PATH = /^https?:\/\/[^/?#]+(?:\/[^?#]*)?\/(00|01|253|255|401|402|414|417|8003|8004|8006|8010|8013|8017|8018|gtin|sscc|gln)\/[^/?#]+/i;

/**
 * The canonical form of an identifier in an EPC list, quantity list, `parentID`,
 * `readPoint`, `bizLocation`, source or destination: GS1 identifiers (EPC URNs, and https
 * URIs with the GS1 Digital Link path grammar) go through {@link parseEpc} (check digits,
 * lengths, character sets) and come back as their canonical Digital Link URI; other URIs
 * (private identifiers such as `urn:uuid:…`, `geo:…`) are returned as given.
 * @throws SilkError `INVALID_ARGUMENT` (details.path) for a malformed GS1 identifier
 */
export function canonicalIdentifier(value: string, path: string): string {
  if (!/^urn:epc:/i.test(value) && !DIGITAL_LINK_PATH.test(value)) return value;
  try {
    return parseEpc(value).digitalLink;
  } catch (error) {
    if (!(error instanceof SilkError)) throw error;
    throw new SilkError('INVALID_ARGUMENT', `${path}: ${error.message}`, { path }, { cause: error });
  }
}
