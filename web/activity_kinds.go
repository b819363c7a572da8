package web

import "github.com/roundtable-lms/roundtable/course"

// activityKind is one kind of activity staff can place and set up. A new
// kind (peer review, playlists) is one more entry here, with its kind
// known to course.Settings: the settings fields and the deep-linking
// chooser offer it from then on.
type activityKind struct {
	Kind string
	// Label is the choice's text in the settings fields.
	Label string
	// DefaultTitle names a new activity of this kind in the chooser.
	DefaultTitle string
}

var activityKinds = []activityKind{
	{Kind: course.KindDiscussion, Label: "A discussion: learners start questions and discussions", DefaultTitle: "Cohort discussion"},
	{Kind: course.KindQuestionBoard, Label: "A question board: learners ask questions others answer", DefaultTitle: "Questions and answers"},
}

func knownKind(k string) (activityKind, bool) {
	for _, ak := range activityKinds {
		if ak.Kind == k {
			return ak, true
		}
	}
	return activityKind{}, false
}

// Kinds are the kinds of activity the settings fields offer.
func (settingsForm) Kinds() []activityKind { return activityKinds }
