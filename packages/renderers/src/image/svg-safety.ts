
/**
 * SVG from users must not make the server read files or the network. resvg would resolve
 * `<image href="/etc/passwd">` against the disk, so anything that points outside the document is
 * refused up front rather than silently dropped: the caller learns why the picture is incomplete.
 * Allowed references: fragment links (`#id`) and inline `data:` images.
 */
const HREF_ATTR = /\b(?:xlink:)?href\s*=\s*(["'])(.*?)\1/gis;
const CSS_URL = /url\(\s*(["']?)(.*?)\1\s*\)/gis;

export function findExternalReferences(svg: string): string[] {
  const found: string[] = [];
  if (/<!DOCTYPE|<!ENTITY/i.test(svg)) found.push('<!DOCTYPE>/<!ENTITY> declarations');
  if (/@import/i.test(svg)) found.push('@import');
  for (const match of svg.matchAll(HREF_ATTR)) {
    if (!isInternalReference(match[2]!)) found.push(match[2]!);
  }
  for (const match of svg.matchAll(CSS_URL)) {
    if (!isInternalReference(match[2]!)) found.push(`url(${match[2]})`);
  }
  return found;
}

/** Fragment links (`#id`) and inline `data:image/` URIs: the only references SVG input may make. */
export function isInternalReference(value: string): boolean {
  const v = value.trim();
  return v.startsWith('#') || /^data:image\//i.test(v);
}
