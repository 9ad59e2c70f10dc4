package connect

import (
	"fmt"
	"log/slog"
	"time"
)

// Format makes every fmt verb print the event as the default formatting would, except
// that Data, Included and Context show as their sizes ("[1234 bytes]", "[2 documents,
// 900 bytes]"), never their values: an inquiry's or a share token's payload holds
// end-user data, which must not reach a log line. Code reads them whole as before.
func (e Event) Format(f fmt.State, verb rune) {
	formatMirror(f, verb, eventFields{
		ID: e.ID, Name: e.Name, CreatedAt: e.CreatedAt, Object: e.Object,
		Data: rawSize(len(e.Data)), Included: sizeOfRawList(e.Included), Context: rawSize(len(e.Context)),
	}, "connect.eventFields", "connect.Event")
}

// LogValue makes slog show the event's id, name, time and object, with the sizes of
// Data, Included and Context in place of their values (slog's JSON handler would
// otherwise write them out verbatim). slog asks for it only of a value logged on its
// own: an []*Event logged as one value is encoded by the handler, payloads and all, so
// log events one at a time, or their IDs.
func (e Event) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", e.ID),
		slog.String("name", string(e.Name)),
		slog.Time("created_at", e.CreatedAt),
		slog.Group("object", slog.String("type", e.Object.Type), slog.String("id", e.Object.ID)),
		slog.Int("data_bytes", len(e.Data)),
		slog.Int("included_documents", len(e.Included)),
		slog.Int("context_bytes", len(e.Context)),
	)
}

// eventFields mirrors Event for Format: the same fields in the same order, with the
// payloads reduced to their sizes. It has no Format method of its own, so fmt's struct
// printing applies to it.
type eventFields struct {
	ID        string
	Name      EventName
	CreatedAt time.Time
	Object    Ref
	Data      rawSize
	Included  rawListSize
	Context   rawSize
}
