package route53sim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

// Every document is in Route 53's namespace,
// https://route53.amazonaws.com/doc/2013-04-01/, which the response types
// name in their XMLName tags. Request tags name no namespace, so they match
// the one the SDK sends.

type changeResourceRecordSetsRequest struct {
	XMLName     xml.Name `xml:"ChangeResourceRecordSetsRequest"`
	ChangeBatch struct {
		Comment string      `xml:"Comment"`
		Changes []changeXML `xml:"Changes>Change"`
	} `xml:"ChangeBatch"`
}

type changeXML struct {
	Action            string       `xml:"Action"`
	ResourceRecordSet recordSetXML `xml:"ResourceRecordSet"`
}

// recordSetXML is a ResourceRecordSet element. Unsupported collects the
// elements the emulator does not model (AliasTarget, SetIdentifier, ...) so
// a request using them is refused instead of half understood.
type recordSetXML struct {
	Name            string       `xml:"Name"`
	Type            string       `xml:"Type"`
	TTL             *int64       `xml:"TTL,omitempty"`
	ResourceRecords *valuesXML   `xml:"ResourceRecords,omitempty"`
	Unsupported     []elementXML `xml:",any"`
}

type valuesXML struct {
	Records []valueXML `xml:"ResourceRecord"`
}

type valueXML struct {
	Value string `xml:"Value"`
}

type elementXML struct {
	XMLName xml.Name
}

// Response documents.

type hostedZoneXML struct {
	ID              string `xml:"Id"`
	Name            string `xml:"Name"`
	CallerReference string `xml:"CallerReference"`
	Config          struct {
		PrivateZone bool `xml:"PrivateZone"`
	} `xml:"Config"`
	ResourceRecordSetCount int `xml:"ResourceRecordSetCount"`
}

type hostedZonesXML struct {
	Zones []hostedZoneXML `xml:"HostedZone"`
}

type listHostedZonesResponse struct {
	XMLName     xml.Name       `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHostedZonesResponse"`
	HostedZones hostedZonesXML `xml:"HostedZones"`
	Marker      string         `xml:"Marker"`
	IsTruncated bool           `xml:"IsTruncated"`
	NextMarker  string         `xml:"NextMarker,omitempty"`
	MaxItems    int            `xml:"MaxItems"`
}

type listHostedZonesByNameResponse struct {
	XMLName          xml.Name       `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHostedZonesByNameResponse"`
	HostedZones      hostedZonesXML `xml:"HostedZones"`
	DNSName          string         `xml:"DNSName,omitempty"`
	HostedZoneID     string         `xml:"HostedZoneId,omitempty"`
	IsTruncated      bool           `xml:"IsTruncated"`
	NextDNSName      string         `xml:"NextDNSName,omitempty"`
	NextHostedZoneID string         `xml:"NextHostedZoneId,omitempty"`
	MaxItems         int            `xml:"MaxItems"`
}

type recordSetsXML struct {
	Sets []recordSetXML `xml:"ResourceRecordSet"`
}

type listResourceRecordSetsResponse struct {
	XMLName            xml.Name      `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListResourceRecordSetsResponse"`
	ResourceRecordSets recordSetsXML `xml:"ResourceRecordSets"`
	IsTruncated        bool          `xml:"IsTruncated"`
	NextRecordName     string        `xml:"NextRecordName,omitempty"`
	NextRecordType     string        `xml:"NextRecordType,omitempty"`
	MaxItems           int           `xml:"MaxItems"`
}

type changeInfoXML struct {
	ID          string `xml:"Id"`
	Status      string `xml:"Status"`
	SubmittedAt string `xml:"SubmittedAt"`
	Comment     string `xml:"Comment,omitempty"`
}

type changeResourceRecordSetsResponse struct {
	XMLName    xml.Name      `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ChangeResourceRecordSetsResponse"`
	ChangeInfo changeInfoXML `xml:"ChangeInfo"`
}

type getChangeResponse struct {
	XMLName    xml.Name      `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetChangeResponse"`
	ChangeInfo changeInfoXML `xml:"ChangeInfo"`
}

type errorResponse struct {
	XMLName xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ErrorResponse"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

// invalidChangeBatchResponse is the document Route 53 answers a refused
// change batch with: one Message per problem, no ErrorResponse envelope.
// The SDK's route53 customization recognises it by its root element.
type invalidChangeBatchResponse struct {
	XMLName   xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ InvalidChangeBatch"`
	Messages  []string `xml:"Messages>Message"`
	RequestID string   `xml:"RequestId"`
}

func toRecordSetXML(r recordSet) recordSetXML {
	ttl := r.TTL
	out := recordSetXML{Name: r.Name, Type: r.Type, TTL: &ttl, ResourceRecords: &valuesXML{}}
	for _, v := range r.Values {
		out.ResourceRecords.Records = append(out.ResourceRecords.Records, valueXML{Value: v})
	}
	return out
}

func toChangeInfoXML(c *change) changeInfoXML {
	status := "PENDING"
	if c.insync {
		status = "INSYNC"
	}
	return changeInfoXML{ID: "/change/" + c.id, Status: status, SubmittedAt: formatTime(c.submittedAt), Comment: c.comment}
}

// formatTime is Route 53's timestamp format, ISO 8601 in UTC with milliseconds.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// writeXML writes a document with the given status and a fresh request id.
func writeXML(w http.ResponseWriter, status int, doc any, requestID string) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(doc); err != nil {
		http.Error(w, "encoding Route 53 response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeAPIError writes err in the ErrorResponse envelope.
func writeAPIError(w http.ResponseWriter, call *localaws.Call, err *localaws.APIError) {
	call.MarkError(err.Code)
	var doc errorResponse
	doc.Error.Type = "Sender"
	if err.HTTPStatus >= 500 {
		doc.Error.Type = "Receiver"
	}
	doc.Error.Code = err.Code
	doc.Error.Message = err.Message
	doc.RequestID = newRequestID()
	status := err.HTTPStatus
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeXML(w, status, doc, doc.RequestID)
}

// writeInvalidChangeBatch writes a refused batch with all its messages.
func writeInvalidChangeBatch(w http.ResponseWriter, call *localaws.Call, messages []string) {
	call.MarkError("InvalidChangeBatch")
	doc := invalidChangeBatchResponse{Messages: messages, RequestID: newRequestID()}
	writeXML(w, http.StatusBadRequest, doc, doc.RequestID)
}

// newRequestID returns a random id in the UUID layout AWS uses.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newChangeID returns a change id like Route 53's: "C" and 20 characters
// of upper-case letters and digits.
func newChangeID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b [20]byte
	_, _ = rand.Read(b[:])
	out := make([]byte, 0, 21)
	out = append(out, 'C')
	for _, c := range b {
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out)
}

type getHostedZoneResponse struct {
	XMLName    xml.Name      `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetHostedZoneResponse"`
	HostedZone hostedZoneXML `xml:"HostedZone"`
	// VPCs lists a private zone's associations (absent for a public one).
	VPCs []vpcXML `xml:"VPCs>VPC,omitempty"`
}

type vpcXML struct {
	VPCRegion string `xml:"VPCRegion"`
	VPCID     string `xml:"VPCId"`
}
