/**
 * One input over a published cap. Returned in the `details` of a 400 `validation_failed`, so a
 * caller sees where (`path`, from the request body's root), the cap (`limit`) and what it asked
 * for (`actual`), in the unit the message names.
 */
export interface CapViolation {
  path: (string | number)[];
  message: string;
  limit: number;
  actual: number;
}
