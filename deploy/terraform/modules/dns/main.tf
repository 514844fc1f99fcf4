# Opt-in public DNS and TLS (install.md: manage_public_dns=true): a Route53 hosted zone (or an
# existing one) and an ACM certificate for the ingress host, validated by DNS records in that
# zone. The ALB itself is created later by the AWS Load Balancer Controller from the chart's
# Ingress, so its alias record is not made here (README: external-dns or one manual record).

resource "aws_route53_zone" "this" {
  count   = var.zone_id == "" ? 1 : 0
  name    = var.zone_name
  comment = "hev layer install ${var.name}"
}

locals {
  zone_id = var.zone_id == "" ? aws_route53_zone.this[0].zone_id : var.zone_id
}

resource "aws_acm_certificate" "this" {
  domain_name       = var.host
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "validation" {
  for_each = {
    for o in aws_acm_certificate.this.domain_validation_options : o.domain_name => {
      name   = o.resource_record_name
      type   = o.resource_record_type
      record = o.resource_record_value
    }
  }

  zone_id         = local.zone_id
  name            = each.value.name
  type            = each.value.type
  records         = [each.value.record]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "this" {
  certificate_arn         = aws_acm_certificate.this.arn
  validation_record_fqdns = [for r in aws_route53_record.validation : r.fqdn]
}
