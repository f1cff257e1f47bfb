from common import passwords


def test_hash_and_verify(conf):
    h = passwords.hash_password('s3cret')
    assert h.startswith('pbkdf2_sha256$1000$')
    assert passwords.verify_password('s3cret', h)
    assert not passwords.verify_password('S3cret', h)


def test_salted(conf):
    assert passwords.hash_password('x') != passwords.hash_password('x')


def test_foreign_or_missing_hash(conf):
    assert not passwords.verify_password('x', None)
    assert not passwords.verify_password('x', 'md5$abc')
    assert not passwords.verify_password('x', 'garbage')
