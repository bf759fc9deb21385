/**
 * GS1 Core Business Vocabulary (CBV) 2.0 standard vocabularies, and the normalisation of a
 * value written in any of its forms to one canonical form.
 *
 * A CBV value may be written bare (`shipping`, the JSON-LD form), as a URN
 * (`urn:epcglobal:cbv:bizstep:shipping`, the EPCIS 1.x form) or as a web URI
 * (`https://ref.gs1.org/cbv/BizStep-shipping`). **The canonical form is the web URI**: CBV 2.0
 * names it the preferred form and the CBV 2.0 event hash uses it. Measurement types and
 * sensor alert types live in the GS1 Web Vocabulary (`https://gs1.org/voc/Temperature`) and
 * have no URN form.
 *
 * Unknown bare, URN or web values of a standard vocabulary are refused; any other absolute
 * URI is a user extension and is kept as it is.
 *
 * Source: GS1 CBV 2.0 §7 (vocabulary lists), matching the enumerations of the EPCIS 2.0 JSON
 * schema.
 */
import { SilkError } from '../errors.js';

/** The CBV vocabularies this module knows. */
export type CbvVocabulary =
  | 'bizStep'
  | 'disposition'
  | 'bizTransactionType'
  | 'sourceDestType'
  | 'errorReason'
  | 'measurementType'
  | 'sensorAlertType'
  | 'component';

interface VocabularySpec {
  /** Human name for messages. */
  readonly label: string;
  /** Web URI prefix: canonical form is prefix + bare term. */
  readonly web: string;
  /** URN prefix, when the vocabulary has a URN form. */
  readonly urn?: string;
  readonly terms: readonly string[];
}

const CBV_WEB = 'https://ref.gs1.org/cbv/';
const GS1_VOC = 'https://gs1.org/voc/';

const SPECS: Readonly<Record<CbvVocabulary, VocabularySpec>> = {
  bizStep: {
    label: 'business step',
    web: `${CBV_WEB}BizStep-`,
    urn: 'urn:epcglobal:cbv:bizstep:',
    terms: [
      'accepting', 'arriving', 'assembling', 'collecting', 'commissioning', 'consigning', 'creating_class_instance',
      'cycle_counting', 'decommissioning', 'departing', 'destroying', 'disassembling', 'dispensing', 'encoding',
      'entering_exiting', 'holding', 'inspecting', 'installing', 'killing', 'loading', 'other', 'packing', 'picking',
      'receiving', 'removing', 'repackaging', 'repairing', 'replacing', 'reserving', 'retail_selling', 'sampling',
      'sensor_reporting', 'shipping', 'staging_outbound', 'stock_taking', 'stocking', 'storing', 'transporting',
      'unloading', 'unpacking', 'void_shipping',
    ],
  },
  disposition: {
    label: 'disposition',
    web: `${CBV_WEB}Disp-`,
    urn: 'urn:epcglobal:cbv:disp:',
    terms: [
      'active', 'available', 'completeness_inferred', 'completeness_verified', 'conformant', 'container_closed',
      'container_open', 'damaged', 'destroyed', 'dispensed', 'disposed', 'encoded', 'expired', 'in_progress',
      'in_transit', 'inactive', 'mismatch_class', 'mismatch_instance', 'mismatch_quantity', 'needs_replacement',
      'no_pedigree_match', 'non_conformant', 'non_sellable_other', 'partially_dispensed', 'recalled', 'reserved',
      'retail_sold', 'returned', 'sellable_accessible', 'sellable_not_accessible', 'stolen', 'unavailable', 'unknown',
    ],
  },
  bizTransactionType: {
    label: 'business transaction type',
    web: `${CBV_WEB}BTT-`,
    urn: 'urn:epcglobal:cbv:btt:',
    terms: ['bol', 'cert', 'desadv', 'inv', 'pedigree', 'po', 'poc', 'prodorder', 'recadv', 'rma', 'testprd', 'testres', 'upevt'],
  },
  sourceDestType: {
    label: 'source/destination type',
    web: `${CBV_WEB}SDT-`,
    urn: 'urn:epcglobal:cbv:sdt:',
    terms: ['location', 'owning_party', 'possessing_party'],
  },
  errorReason: {
    label: 'error reason',
    web: `${CBV_WEB}ER-`,
    urn: 'urn:epcglobal:cbv:er:',
    terms: ['did_not_occur', 'incorrect_data'],
  },
  measurementType: {
    label: 'sensor measurement type',
    web: GS1_VOC,
    terms: [
      'AbsoluteHumidity', 'AbsorbedDose', 'AbsorbedDoseRate', 'Acceleration', 'Altitude', 'AmountOfSubstance',
      'AmountOfSubstancePerUnitVolume', 'Angle', 'AngularAcceleration', 'AngularMomentum', 'AngularVelocity', 'Area',
      'Capacitance', 'Conductance', 'Conductivity', 'Count', 'Density', 'Dimensionless', 'DoseEquivalent',
      'DoseEquivalentRate', 'DynamicViscosity', 'ElectricCharge', 'ElectricCurrent', 'ElectricCurrentDensity',
      'ElectricFieldStrength', 'Energy', 'Exposure', 'Force', 'Frequency', 'Illuminance', 'Inductance', 'Irradiance',
      'KinematicViscosity', 'Length', 'LinearMomentum', 'Luminance', 'LuminousFlux', 'LuminousIntensity', 'MagneticFlux',
      'MagneticFluxDensity', 'MagneticVectorPotential', 'Mass', 'MassConcentration', 'MassFlowRate', 'MassPerAreaTime',
      'MemoryCapacity', 'MolalityOfSolute', 'MolarEnergy', 'MolarMass', 'MolarVolume', 'Power', 'Pressure',
      'Radioactivity', 'RadiantFlux', 'RadiantIntensity', 'RelativeHumidity', 'Resistance', 'Resistivity', 'SolidAngle',
      'SpecificVolume', 'Speed', 'SurfaceDensity', 'SurfaceTension', 'Temperature', 'Time', 'Torque', 'Voltage', 'Volume',
      'VolumeFlowRate', 'VolumeFraction', 'VolumetricFlux', 'Wavenumber',
    ],
  },
  sensorAlertType: {
    label: 'sensor alert type',
    web: GS1_VOC,
    terms: ['ALARM_CONDITION', 'ERROR_CONDITION'],
  },
  component: {
    label: 'sensor component',
    web: `${CBV_WEB}Comp-`,
    terms: [
      'altitude', 'axial_distance', 'azimuth', 'easting', 'elevation_angle', 'height', 'latitude', 'longitude',
      'northing', 'polar_angle', 'spherical_radius', 'x', 'y', 'z',
    ],
  },
};

const TERM_SETS: ReadonlyMap<CbvVocabulary, ReadonlySet<string>> = new Map(
  (Object.keys(SPECS) as CbvVocabulary[]).map((name) => [name, new Set(SPECS[name].terms)]),
);

/** CURIE prefixes the EPCIS 2.0 context fixes (it is `@protected`). */
const STANDARD_PREFIXES: Readonly<Record<string, string>> = { cbv: CBV_WEB, gs1: GS1_VOC };

/** Prefixes that belong to the standard: a value under them must be a known term. */
const RESERVED_PREFIXES = ['urn:epcglobal:cbv:', CBV_WEB];

/** A CBV value after normalisation. */
export interface CbvValue {
  /** The canonical form: the web URI of a standard term, or the user extension URI unchanged. */
  readonly canonical: string;
  /** The bare term of a standard value (`shipping`), absent for an extension. */
  readonly term?: string;
  /** True for a term of the standard vocabulary, false for a user extension URI. */
  readonly standard: boolean;
}

/**
 * The terms of one standard vocabulary, bare.
 * @param vocabulary - which vocabulary
 * @returns its terms, in the order CBV 2.0 lists them (alphabetical)
 * @example
 * cbvTerms('sourceDestType'); // ['location', 'owning_party', 'possessing_party']
 */
export function cbvTerms(vocabulary: CbvVocabulary): readonly string[] {
  return SPECS[vocabulary].terms;
}

function refuse(vocabulary: CbvVocabulary, value: string, why: string): SilkError {
  return new SilkError('INVALID_ARGUMENT', `unknown ${SPECS[vocabulary].label} ${JSON.stringify(value)}: ${why}`, { vocabulary, value });
}

function known(vocabulary: CbvVocabulary, term: string, value: string): CbvValue {
  if (!(TERM_SETS.get(vocabulary)?.has(term) ?? false)) throw refuse(vocabulary, value, `not a CBV 2.0 ${SPECS[vocabulary].label}`);
  return { canonical: SPECS[vocabulary].web + term, term, standard: true };
}

/** Expands `cbv:` and `gs1:` CURIEs, which the EPCIS 2.0 context defines. */
function expandCurie(value: string): string {
  const colon = value.indexOf(':');
  const prefix = STANDARD_PREFIXES[value.slice(0, colon)];
  return prefix === undefined || value.startsWith(`${value.slice(0, colon)}://`) ? value : prefix + value.slice(colon + 1);
}

/**
 * Parses a CBV value written bare, as a URN or as a web URI (or a `cbv:`/`gs1:` CURIE).
 * @param vocabulary - the vocabulary the field takes its values from
 * @param value - the value as written
 * @returns its canonical form, and its bare term when it is a standard value
 * @throws SilkError `INVALID_ARGUMENT` for an unknown bare term, an unknown term under a CBV
 *   URN or web prefix, a term of another vocabulary, or a string that is not a URI
 * @example
 * parseCbv('bizStep', 'urn:epcglobal:cbv:bizstep:shipping').canonical; // 'https://ref.gs1.org/cbv/BizStep-shipping'
 */
export function parseCbv(vocabulary: CbvVocabulary, value: string): CbvValue {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new SilkError('INVALID_ARGUMENT', `a ${SPECS[vocabulary].label} must be a non-empty string`, { vocabulary });
  }
  const spec = SPECS[vocabulary];
  if (!value.includes(':')) return known(vocabulary, value, value);
  const expanded = expandCurie(value);
  if (spec.urn !== undefined && expanded.startsWith(spec.urn)) return known(vocabulary, expanded.slice(spec.urn.length), value);
  if (expanded.startsWith(spec.web) && (spec.web !== GS1_VOC || TERM_SETS.get(vocabulary)?.has(expanded.slice(spec.web.length)) === true)) {
    return known(vocabulary, expanded.slice(spec.web.length), value);
  }
  if (RESERVED_PREFIXES.some((prefix) => expanded.startsWith(prefix))) {
    throw refuse(vocabulary, value, `it is not a ${spec.label} of CBV 2.0`);
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(expanded)) throw refuse(vocabulary, value, 'not a bare CBV term and not a URI');
  return { canonical: expanded, standard: false };
}

/**
 * The canonical form of a CBV value (see {@link parseCbv}).
 * @param vocabulary - the vocabulary the field takes its values from
 * @param value - bare, URN, web URI or a user extension URI
 * @returns the web URI of a standard term, or the extension URI unchanged
 * @throws SilkError `INVALID_ARGUMENT` as {@link parseCbv}
 * @example
 * normaliseCbv('disposition', 'in_transit'); // 'https://ref.gs1.org/cbv/Disp-in_transit'
 */
export function normaliseCbv(vocabulary: CbvVocabulary, value: string): string {
  return parseCbv(vocabulary, value).canonical;
}

/**
 * The bare form of a CBV value (for EPCIS 2.0 JSON-LD output), or the URI of an extension.
 * @param vocabulary - the vocabulary the field takes its values from
 * @param value - any accepted form
 * @returns `shipping` for any form of the standard term, else the extension URI
 * @throws SilkError `INVALID_ARGUMENT` as {@link parseCbv}
 * @example
 * cbvBareForm('bizStep', 'https://ref.gs1.org/cbv/BizStep-shipping'); // 'shipping'
 */
export function cbvBareForm(vocabulary: CbvVocabulary, value: string): string {
  const parsed = parseCbv(vocabulary, value);
  return parsed.term ?? parsed.canonical;
}

/**
 * Whether two values of one vocabulary are the same value in any of its forms.
 * @param vocabulary - the vocabulary
 * @param a - a value in any form
 * @param b - a value in any form
 * @returns true when their canonical forms are equal
 * @throws SilkError `INVALID_ARGUMENT` as {@link parseCbv}
 * @example
 * sameCbvValue('bizStep', 'shipping', 'urn:epcglobal:cbv:bizstep:shipping'); // true
 */
export function sameCbvValue(vocabulary: CbvVocabulary, a: string, b: string): boolean {
  return normaliseCbv(vocabulary, a) === normaliseCbv(vocabulary, b);
}

/**
 * The web URI of a bare standard term, without throwing: for code that must keep unknown
 * values as they are (the event hash does).
 * @param vocabulary - the vocabulary
 * @param value - a value in any form
 * @returns the canonical web URI when `value` is a bare standard term, else undefined
 * @example
 * expandBareCbvTerm('bizStep', 'shipping'); // 'https://ref.gs1.org/cbv/BizStep-shipping'
 */
export function expandBareCbvTerm(vocabulary: CbvVocabulary, value: string): string | undefined {
  return TERM_SETS.get(vocabulary)?.has(value) === true ? SPECS[vocabulary].web + value : undefined;
}
