/** EPCIS values as people read them: CBV words, recorded times, places and parties. */

/** `retail_selling` → `retail selling`; CBV URIs keep their last part. */
export const words = (text: string | undefined): string => (text ?? '').replace(/^.*[/:]/, '').replace(/_/g, ' ');

/** An event's time as recorded, in the zone it was recorded in: `2026-11-23 16:00+01:00`. */
export const eventTime = (iso: string): string => iso.replace('T', ' ').replace(/:00\.000/, '').replace(/\.\d{3}/, '');

/** A place's canonical Digital Link (`https://id.gs1.org/414/<GLN>`) as `GLN <GLN>`. */
export const placeLabel = (place: string): string => place.replace('https://id.gs1.org/414/', 'GLN ');

/** A party: an org's name as it is, a PGLN URN as `PGLN <company prefix>.<reference>`. */
export const partyLabel = (party: string): string => party.replace('urn:epc:id:pgln:', 'PGLN ');

/** True for a lot's code: a Digital Link `…/01/<gtin>/10/<lot>` without a serial, or an LGTIN URN. */
export function lotCode(code: string): boolean {
  return /\/01\/\d{14}\/10\/[^/?#]+\/?([?#].*)?$/.test(code) || /^urn:epc:class:lgtin:/.test(code);
}
