package httpapi

// Services are the domain services the strict methods call. A nil service leaves its operations
// answering 501 through the notImplemented stubs only if the method is not defined; defined
// methods require their service.
type Services struct{}
