// Package deploy holds the node agent's installation files (systemd
// unit, settings example, softdog module, install.sh) and the test that
// installs them into a temporary root and verifies the unit. It has no Go
// code of its own.
package deploy
