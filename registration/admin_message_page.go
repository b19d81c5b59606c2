package registration

// The pages of an organiser's message: write (GET), preview (POST
// .../message/preview: the email as the first recipient gets it and how
// many get it; nothing is stored) and send (POST .../message: one outbox row
// per person, in one transaction).

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/organisers"
)

// MessagePage is the data of the message form and its preview.
type MessagePage struct {
	Event    events.Event
	Base     string // /admin/events/{id}/message
	Back     string // the attendee list
	Draft    MessageDraft
	Problems map[string]string // field -> catalogue key
	Max      map[string]int    // field -> its limit, for the messages
	Groups   []MessageGroup
	// Preview is set on the preview step.
	Preview *MessagePreview
}

// MessageGroup is a choice of recipients with how many it reaches.
type MessageGroup struct {
	Key   string
	Count int
}

// MessagePreview is the email as its first recipient will get it.
type MessagePreview struct {
	Count   int
	To      string // "Name" of the first recipient, whose copy is shown
	ReplyTo string
	Subject string
	Text    string
}

func (h *AttendeesHandler) messagePage(c *gin.Context, ev events.Event, d MessageDraft) (MessagePage, []Attendee, error) {
	all, err := FindAttendees(c.Request.Context(), h.Service.DB.Read(), ev.ID)
	if err != nil {
		return MessagePage{}, nil, err
	}
	p := MessagePage{Event: ev, Base: eventPath(ev.ID) + "/message", Back: listURL(ev.ID, "", ""), Draft: d, Problems: map[string]string{},
		Max: map[string]int{"group": 0, "subject": MaxMessageSubject, "body": MaxMessageBody}}
	for _, g := range MessageGroups {
		p.Groups = append(p.Groups, MessageGroup{Key: g, Count: len(Recipients(all, g))})
	}
	return p, Recipients(all, d.Group), nil
}

// MessageForm is GET /admin/events/{id}/message: a message to a group of
// registrants.
func (h *AttendeesHandler) MessageForm(c *gin.Context) {
	ev, err := h.event(c, organisers.Manage)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	group := c.Query("group")
	if group == "" {
		group = GroupConfirmed
	}
	p, _, err := h.messagePage(c, ev, MessageDraft{Group: group})
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "admin_message", h.R.T(c, "message.title"), p)
}

func postedDraft(c *gin.Context) MessageDraft {
	return MessageDraft{Group: c.PostForm("group"), Subject: c.PostForm("subject"), Body: c.PostForm("body")}.Clean()
}

// checkDraft fills in the page's problems; it reports whether there are none.
func checkDraft(p *MessagePage, to []Attendee) bool {
	p.Problems = p.Draft.Problems()
	if _, bad := p.Problems["group"]; !bad && len(to) == 0 {
		p.Problems["group"] = "message.error.nobody"
	}
	return len(p.Problems) == 0
}

// MessagePreview is POST /admin/events/{id}/message/preview: the message as
// the first recipient gets it.
func (h *AttendeesHandler) MessagePreview(c *gin.Context) {
	ev, err := h.event(c, organisers.Manage)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	p, to, err := h.messagePage(c, ev, postedDraft(c))
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	if c.PostForm("edit") != "" {
		// back from the preview to change the text
		h.render(c, http.StatusOK, "admin_message", h.R.T(c, "message.title"), p)
		return
	}
	if !checkDraft(&p, to) {
		h.render(c, http.StatusUnprocessableEntity, "admin_message", h.R.T(c, "message.title"), p)
		return
	}
	// the first recipient's copy, with a link that is not stored: the
	// real ones are made when the message is sent
	first := to[0]
	msg, err := h.Mail.RenderOrganiserMessage(ev, first.Registration, h.R.T(c, "message.preview.token"), p.Draft.Group, p.Draft.Subject, p.Draft.Body)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	p.Preview = &MessagePreview{Count: len(to), To: first.Name, ReplyTo: msg.ReplyTo, Subject: msg.Subject, Text: msg.TextBody}
	h.render(c, http.StatusOK, "admin_message_preview", h.R.T(c, "message.preview.title"), p)
}

// MessageSend is POST /admin/events/{id}/message: the message queued to the
// group.
func (h *AttendeesHandler) MessageSend(c *gin.Context) {
	ev, err := h.event(c, organisers.Manage)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	p, to, err := h.messagePage(c, ev, postedDraft(c))
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	if !checkDraft(&p, to) {
		h.render(c, http.StatusUnprocessableEntity, "admin_message", h.R.T(c, "message.title"), p)
		return
	}
	queued, _, err := h.Service.SendOrganiserMessage(c.Request.Context(), organisers.CurrentUser(c), ev.ID, p.Draft, h.Mail)
	if errors.Is(err, ErrNoRecipients) {
		// the group emptied between the preview and the send
		p.Problems["group"] = "message.error.nobody"
		h.render(c, http.StatusUnprocessableEntity, "admin_message", h.R.T(c, "message.title"), p)
		return
	}
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	flash := "flash.message.sent"
	if queued == 0 {
		flash = "flash.message.already_sent"
	}
	h.redirect(c, listURL(ev.ID, "", ""), flash)
}
