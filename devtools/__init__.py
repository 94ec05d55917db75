"""Development tools no running server imports: launching servers, transcript, evaluations, widget dev server."""
