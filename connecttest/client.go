package connecttest

import connect "github.com/persona-connect/connect-go"

// NewClient returns an SDK client that acts as o on this server: connect.New with o's
// API key and connect.WithBaseURL(s.URL), then opts, which come after and so may
// replace either (a WithHTTPClient of the test's own, a WithLogger...). An invalid
// option returns New's error. Like the other setup methods it panics when o belongs to
// another server or the server is closed.
func (s *Server) NewClient(o *Organization, opts ...connect.Option) (*connect.Client, error) {
	key := func() string {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.mustOrgLocked(o).pub.APIKey
	}()
	return connect.New(key, append([]connect.Option{connect.WithBaseURL(s.URL)}, opts...)...)
}
