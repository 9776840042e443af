// Passwords never reach a message: URLs are shown without theirs. (No pg here: state.ts loads it only when needed.)

/** The URL with any password replaced by ***, for messages; unparseable text is cut to its scheme. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return `${url.split("://")[0]}://…`;
  }
}
