# Rules that relate two variables. Validation blocks may read only their own variable before
# Terraform 1.9, so these are preconditions; each message names the variables and the fix.
resource "terraform_data" "input_rules" {
  lifecycle {
    precondition {
      condition     = var.create_cluster || var.existing_cluster != null
      error_message = "create_cluster = false needs existing_cluster = { name, oidc_provider_arn, oidc_issuer_url } describing the EKS cluster to bind to (or set create_cluster = true for a fresh one)."
    }

    precondition {
      condition     = !var.create_cluster || length(var.availability_zones) >= 2
      error_message = "create_cluster = true needs availability_zones: 2 or 3 zones of var.region, e.g. [\"us-east-1a\", \"us-east-1b\"]."
    }

    precondition {
      condition     = alltrue([for z in var.availability_zones : startswith(z, var.region)])
      error_message = "availability_zones must all be zones of var.region (\"${var.region}a\", \"${var.region}b\", ...)."
    }

    precondition {
      condition     = !var.manage_public_dns || (var.dns.host != "" && (var.dns.zone_name != "" || var.dns.zone_id != ""))
      error_message = "manage_public_dns = true needs dns.host and one of dns.zone_name (create the zone) or dns.zone_id (use an existing zone)."
    }

    precondition {
      condition     = !var.manage_public_dns || var.dns.zone_name == "" || var.dns.host == var.dns.zone_name || endswith(var.dns.host, ".${var.dns.zone_name}")
      error_message = "dns.host must be inside dns.zone_name (e.g. host \"layer.example.com\" in zone \"example.com\")."
    }
  }
}
