export const AcmeConfig = Schema.Struct({
  baseUrl: Schema.String.pipe(Schema.pattern(/^https:\/\/[^/]+$/, { message: () => "an https:// origin, no path" })),
  token: Schema.Redacted(Schema.String.pipe(Schema.minLength(8)))
})

export {}
