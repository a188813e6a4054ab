"""Portal sign-in on a tenant's own host."""


def test_member_signs_in_on_their_tenants_host_and_sees_their_workspace(world, api):
    response = api.post(
        "/login/",
        {"email": "analyst@acme.example", "password": "analyst-acme-password"},
        HTTP_HOST=world.acme.host,
    )

    assert response.status_code == 302
    home = api.get("/", HTTP_HOST=world.acme.host).content.decode()
    assert "Acme Energy" in home
    assert "analyst" in home
    assert "You are analyst in Acme Energy" in home


def test_member_of_another_tenant_gets_the_same_answer_as_a_wrong_password(world, api):
    foreign = api.post(
        "/login/",
        {"email": "admin@acme.example", "password": "admin-acme-password"},
        HTTP_HOST=world.globex.host,
    )
    wrong = api.post(
        "/login/",
        {"email": "admin@globex.example", "password": "nope-nope-nope"},
        HTTP_HOST=world.globex.host,
    )

    assert foreign.status_code == wrong.status_code == 401
    assert "not right for this workspace" in foreign.content.decode()
    assert "not right for this workspace" in wrong.content.decode()
    assert api.get("/", HTTP_HOST=world.globex.host).status_code == 302


def test_home_requires_sign_in(world, api):
    response = api.get("/", HTTP_HOST=world.acme.host)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
