package ec2sim

import (
	"net/http"

	"github.com/switchyard/switchyard/internal/localaws"
)

// DescribeAddresses, AssociateAddress and DisassociateAddress (Elastic IPs
// in a VPC).

type addressXML struct {
	PublicIP                string   `xml:"publicIp"`
	AllocationID            string   `xml:"allocationId"`
	Domain                  string   `xml:"domain"`
	InstanceID              string   `xml:"instanceId,omitempty"`
	AssociationID           string   `xml:"associationId,omitempty"`
	NetworkInterfaceID      string   `xml:"networkInterfaceId,omitempty"`
	NetworkInterfaceOwnerID string   `xml:"networkInterfaceOwnerId,omitempty"`
	PrivateIPAddress        string   `xml:"privateIpAddress,omitempty"`
	PublicIPv4Pool          string   `xml:"publicIpv4Pool"`
	NetworkBorderGroup      string   `xml:"networkBorderGroup"`
	Tags                    []tagXML `xml:"tagSet>item"`
}

type describeAddressesResponse struct {
	requestMeta
	Addresses []addressXML `xml:"addressesSet>item"`
}

var addressFilters = filterSpec[addressXML]{
	fields: map[string]func(addressXML) []string{
		"allocation-id":              func(a addressXML) []string { return one(a.AllocationID) },
		"association-id":             func(a addressXML) []string { return one(a.AssociationID) },
		"domain":                     func(a addressXML) []string { return one(a.Domain) },
		"instance-id":                func(a addressXML) []string { return one(a.InstanceID) },
		"network-border-group":       func(a addressXML) []string { return one(a.NetworkBorderGroup) },
		"network-interface-id":       func(a addressXML) []string { return one(a.NetworkInterfaceID) },
		"network-interface-owner-id": func(a addressXML) []string { return one(a.NetworkInterfaceOwnerID) },
		"private-ip-address":         func(a addressXML) []string { return one(a.PrivateIPAddress) },
		"public-ip":                  func(a addressXML) []string { return one(a.PublicIP) },
	},
	tags: func(a addressXML) []tagXML { return a.Tags },
}

// describeAddresses lists Elastic IPs. It is not paginated in EC2.
func (s *Service) describeAddresses(call *localaws.Call, p params) (response, *localaws.APIError) {
	ids, ips := p.list("AllocationId"), p.list("PublicIp")
	call.AddResource(ids...)
	filters := p.filters()
	if err := addressFilters.check(filters); err != nil {
		return nil, err
	}
	selected, err := selectByID(s.addresses, func(a *address) string { return a.allocationID }, ids, allocationNotFound)
	if err != nil {
		return nil, err
	}
	if ips != nil {
		selected, err = selectByID(selected, func(a *address) string { return a.publicIP }, ips, func(missing []string) *localaws.APIError {
			return localaws.BadRequest("InvalidAddress.NotFound", "Address '%s' not found.", missing[0])
		})
		if err != nil {
			return nil, err
		}
	}
	items := make([]addressXML, 0, len(selected))
	for _, a := range selected {
		x := addressXML{PublicIP: a.publicIP, AllocationID: a.allocationID, Domain: "vpc",
			PublicIPv4Pool: "amazon", NetworkBorderGroup: s.region}
		if a.associationID != "" {
			x.AssociationID, x.InstanceID, x.NetworkInterfaceID = a.associationID, a.instanceID, a.eniID
			x.NetworkInterfaceOwnerID, x.PrivateIPAddress = s.accountID, a.privateIP
		}
		items = append(items, x)
	}
	return &describeAddressesResponse{Addresses: addressFilters.apply(items, filters)}, nil
}

type associateAddressResponse struct {
	requestMeta
	Return        bool   `xml:"return"`
	AssociationID string `xml:"associationId"`
}

// associateAddress points an Elastic IP at an instance's primary ENI or at
// an ENI. An address associated elsewhere moves only with
// AllowReassociation (Resource.AlreadyAssociated otherwise); associating
// it again with its current target is a no-op that returns the current
// association id. An Elastic IP already on the target's private address is
// disassociated, as in EC2.
func (s *Service) associateAddress(call *localaws.Call, p params) (response, *localaws.APIError) {
	allocID, instanceID, eniID := p.get("AllocationId"), p.get("InstanceId"), p.get("NetworkInterfaceId")
	call.AddResource(allocID, instanceID, eniID)
	allow, err := p.boolean("AllowReassociation")
	if err != nil {
		return nil, err
	}
	addr, err := s.addressFor(allocID, p.get("PublicIp"))
	if err != nil {
		return nil, err
	}
	eni, err := s.associationTarget(instanceID, eniID)
	if err != nil {
		return nil, err
	}
	if ip := p.get("PrivateIpAddress"); ip != "" && ip != eni.privateIP {
		return nil, localaws.BadRequest("InvalidParameterValue",
			"The private IP address %s is not assigned to network interface %s.", ip, eni.id)
	}
	call.AddResource(addr.allocationID, eni.id, eni.instanceID)
	if addr.associationID != "" {
		if addr.eniID == eni.id {
			return &associateAddressResponse{Return: true, AssociationID: addr.associationID}, nil
		}
		if !allow {
			return nil, localaws.BadRequest("Resource.AlreadyAssociated",
				"resource %s is already associated with associate-id %s", addr.allocationID, addr.associationID)
		}
		call.AddResource(addr.associationID, addr.eniID, addr.instanceID)
	}
	if other := s.addressOnENI(eni.id); other != nil && other != addr {
		call.AddResource(other.allocationID, other.associationID)
		*other = address{allocationID: other.allocationID, publicIP: other.publicIP}
	}
	addr.associationID = newID("eipassoc")
	addr.eniID, addr.instanceID, addr.privateIP = eni.id, eni.instanceID, eni.privateIP
	call.AddResource(addr.associationID)
	return &associateAddressResponse{Return: true, AssociationID: addr.associationID}, nil
}

// addressFor finds an Elastic IP by allocation id, or by public IP when no
// allocation id is given.
func (s *Service) addressFor(allocID, publicIP string) (*address, *localaws.APIError) {
	if allocID != "" {
		if a := s.addressByID[allocID]; a != nil {
			return a, nil
		}
		return nil, allocationNotFound([]string{allocID})
	}
	if publicIP == "" {
		return nil, localaws.BadRequest("MissingParameter", "The request must contain the parameter allocationId")
	}
	for _, a := range s.addresses {
		if a.publicIP == publicIP {
			return a, nil
		}
	}
	return nil, localaws.BadRequest("InvalidAddress.NotFound", "Address '%s' not found.", publicIP)
}

// associationTarget resolves InstanceId / NetworkInterfaceId of
// AssociateAddress to an ENI.
func (s *Service) associationTarget(instanceID, eniID string) (*networkInterface, *localaws.APIError) {
	if instanceID == "" && eniID == "" {
		return nil, localaws.BadRequest("MissingParameter", "Either instance ID or network interface ID must be specified")
	}
	var eni *networkInterface
	if eniID != "" {
		if eni = s.eniByID[eniID]; eni == nil {
			return nil, eniNotFound([]string{eniID})
		}
	}
	if instanceID != "" {
		if err := checkInstanceIDs([]string{instanceID}); err != nil {
			return nil, err
		}
		in := s.instanceByID[instanceID]
		if in == nil {
			return nil, instanceNotFound([]string{instanceID})
		}
		if eni != nil && eni.instanceID != in.id {
			return nil, localaws.BadRequest("InvalidParameterCombination",
				"Network interface %s is not attached to instance %s", eni.id, in.id)
		}
		eni = s.eniByID[in.eniID]
	}
	if eni == nil {
		return nil, localaws.Errorf(http.StatusInternalServerError, "InternalError", "instance %s has no network interface", instanceID)
	}
	return eni, nil
}

// disassociateAddress ends an Elastic IP association.
func (s *Service) disassociateAddress(call *localaws.Call, p params) (response, *localaws.APIError) {
	assocID, publicIP := p.get("AssociationId"), p.get("PublicIp")
	call.AddResource(assocID)
	if assocID == "" && publicIP == "" {
		return nil, localaws.BadRequest("MissingParameter", "The request must contain the parameter associationId")
	}
	for _, a := range s.addresses {
		if a.associationID == "" || (assocID != "" && a.associationID != assocID) || (assocID == "" && a.publicIP != publicIP) {
			continue
		}
		call.AddResource(a.allocationID, a.eniID, a.instanceID)
		*a = address{allocationID: a.allocationID, publicIP: a.publicIP}
		return &returnResponse{Return: true}, nil
	}
	if assocID == "" {
		return nil, localaws.BadRequest("InvalidAddress.NotFound", "Address '%s' not found or not associated.", publicIP)
	}
	return nil, localaws.BadRequest("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", assocID)
}

func allocationNotFound(ids []string) *localaws.APIError {
	return notFound("InvalidAllocationID.NotFound", "allocation")(ids)
}
