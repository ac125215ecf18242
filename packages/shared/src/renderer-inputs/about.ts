import type { z } from 'zod';

/**
 * A field's label (`title`: what a form shows) and explanation (`description`: what an agent
 * reads), published in the kind's JSON Schema. Every input field has both.
 */
export const about = <T extends z.ZodType>(schema: T, title: string, description: string): T => schema.meta({ title, description }) as T;
