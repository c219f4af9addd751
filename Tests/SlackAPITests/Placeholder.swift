import Testing
@Test func slackPlaceholder() {}
